/// The in-memory run-length table of terms behind `Log.term(at:)`: one (first index, term) pair per run
/// of entries with the same term, so a Raft log of millions of entries over a few terms takes a few
/// dozen bytes. Lookups never touch a segment. Mutated only by the writer under the state write lock.
struct TermTable {
    /// First index of each run, increasing.
    private(set) var starts: [UInt64] = []
    /// Term of each run.
    private(set) var terms: [UInt64] = []

    /// The term of `index`, or nil when `index` is below the first run. Indexes past the last entry are
    /// the caller's to reject. Cost: O(1) in the last run, else a binary search over runs.
    @inline(__always)
    func term(at index: UInt64) -> UInt64? {
        guard let lastStart = starts.last, index >= starts[0] else { return nil }
        if index >= lastStart { return terms[terms.count - 1] }
        var low = 0
        var high = starts.count - 1  // starts[high] > index
        while high - low > 1 {
            let middle = (low + high) / 2
            if starts[middle] <= index { low = middle } else { high = middle }
        }
        return terms[low]
    }

    /// The term of the last run.
    var lastTerm: UInt64? { terms.last }

    /// Records that entry `index` (the next after every recorded one) has `term`.
    @inline(__always)
    mutating func append(index: UInt64, term: UInt64) {
        if terms.last != term {
            starts.append(index)
            terms.append(term)
        }
    }

    /// Forgets entries after `index`.
    mutating func truncate(after index: UInt64) {
        while let start = starts.last, start > index {
            starts.removeLast()
            terms.removeLast()
        }
    }

    /// Forgets runs that end before `index` (the run holding `index` stays).
    mutating func dropRuns(before index: UInt64) {
        var keepFrom = 0
        while keepFrom + 1 < starts.count && starts[keepFrom + 1] <= index { keepFrom += 1 }
        if keepFrom > 0 {
            starts.removeSubrange(0..<keepFrom)
            terms.removeSubrange(0..<keepFrom)
        }
    }

    mutating func removeAll() {
        starts.removeAll()
        terms.removeAll()
    }

    /// Adds the runs of `segment`'s entries (all after every recorded entry). With `monotonic` (terms never
    /// decrease in the segment) it binary-searches the frame headers: O(runs × log entries) header reads;
    /// otherwise it reads every frame header once.
    mutating func add(_ segment: Segment, monotonic: Bool) {
        let count = segment.count
        guard count > 0 else { return }
        let map = segment.map
        let offsets = segment.offsets
        func termOf(_ k: Int) -> UInt64 { Frame.term(map + Int(offsets[k])) }
        if !monotonic {
            for k in 0..<count { append(index: segment.baseIndex + UInt64(k), term: termOf(k)) }
            return
        }
        var k = 0
        while k < count {
            let term = termOf(k)
            append(index: segment.baseIndex + UInt64(k), term: term)
            // The last position holding `term`: binary search in (k, count).
            var low = k
            var high = count  // termOf(high) > term, or high == count
            while high - low > 1 {
                let middle = (low + high) / 2
                if termOf(middle) <= term { low = middle } else { high = middle }
            }
            k = low + 1
        }
    }
}
