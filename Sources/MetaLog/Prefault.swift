// Opening maps the page tables of the newest frames ahead of the reads (`LogOptions.prefaultBytes`).

import Glibc

extension Log {
    /// Populates the page tables of the newest frames, newest segment first, up to `prefaultBytes`
    /// (madvise MADV_POPULATE_READ, Linux 5.14+): a Raft host reads recent entries right after a restart
    /// (to replicate them), and this way those reads take no page faults. Pages not in the page cache are
    /// read from disk here. Any failure (an older kernel's EINVAL included) leaves the mapping lazy, as
    /// it was: reads work either way. Cost: one madvise per segment touched; the kernel's work is linear
    /// in the bytes populated (a few ms per 64 MiB already cached). Needs `writer` (opening holds it).
    func prefaultNewest() {
        var budget = options.prefaultBytes
        guard budget > 0 else { return }
        let page = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
        for segment in segments.reversed() {
            guard budget > 0 else { break }
            let end = segment.dataEnd
            let take = min(end, budget)
            budget -= take
            let start = (end - take) / page * page
            guard end > start else { continue }
            _ = madvise(UnsafeMutableRawPointer(mutating: segment.map) + start, end - start, 22 /* MADV_POPULATE_READ */)
        }
    }
}
