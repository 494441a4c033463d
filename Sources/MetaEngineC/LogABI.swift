// me_log_*: the log's open/close, append, reads and index queries over MetaLog's Log.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMetaEngine
import MetaLog

/// What a me_log handle points at.
final class LogBox {
    let log: Log
    let manual: Bool
    /// Serializes read-modify-write of the hard state (named values).
    let lock = HandleLock()
    /// Set by me_log_close (under `lock`): Log's index getters stay readable after close, the ABI's do not.
    var closed = false

    init(log: Log, manual: Bool) {
        self.log = log
        self.manual = manual
    }
}

@inline(__always)
func logBox(_ p: OpaquePointer?) throws(ABIError) -> LogBox { try box(p, LogBox.self, "log handle") }

@_cdecl("me_log_open")
public func me_log_open(
    _ dir: UnsafePointer<CChar>?, _ segmentBytes: UInt64, _ durability: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let dir = try required(dir, "dir")
        try newHandle(out) {
            var options = LogOptions()
            if segmentBytes != 0 {
                guard segmentBytes <= 1 << 31 else { throw ABIError.argument("segment_bytes \(segmentBytes) is outside 4 KiB ... 2 GiB") }
                options.segmentBytes = Int(segmentBytes)
            }
            switch durability {
            case Int32(ME_SYNC_EVERY_APPEND): options.durability = .syncEveryAppend
            case Int32(ME_GROUP_COMMIT): options.durability = .groupCommit
            case Int32(ME_MANUAL_SYNC): options.durability = .manual
            default: throw ABIError.argument("durability \(durability) is not ME_SYNC_EVERY_APPEND, ME_GROUP_COMMIT or ME_MANUAL_SYNC")
            }
            let log = try Log(directory: String(cString: dir), options: options)
            return handle(LogBox(log: log, manual: options.durability == .manual))
        }
    }
}

@_cdecl("me_log_close")
public func me_log_close(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try logBox(p)
        b.lock.run { b.closed = true }
        try b.log.close()
    }
}

@_cdecl("me_log_free")
public func me_log_free(_ p: OpaquePointer?) {
    try? logBox(p).log.close()
    release(p, LogBox.self)
}

@_cdecl("me_log_append")
public func me_log_append(
    _ p: OpaquePointer?, _ firstIndex: UInt64, _ count: Int, _ terms: UnsafePointer<UInt64>?, _ kinds: UnsafePointer<UInt8>?,
    _ lengths: UnsafePointer<UInt32>?, _ payloads: UnsafeRawPointer?, _ lastIndex: UnsafeMutablePointer<UInt64>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try logBox(p)
        let batch = try flatBatch(count, terms, kinds, lengths, payloads)
        let range = firstIndex == 0 ? try b.log.append(batch) : try b.log.append(batch, at: firstIndex)
        lastIndex?.pointee = range.upperBound
    }
}

@_cdecl("me_log_append_raft")
public func me_log_append_raft(
    _ p: OpaquePointer?, _ firstIndex: UInt64, _ count: Int, _ terms: UnsafePointer<UInt64>?, _ kinds: UnsafePointer<UInt8>?,
    _ lengths: UnsafePointer<UInt32>?, _ payloads: UnsafeRawPointer?, _ state: UnsafePointer<me_hard_state>?,
    _ lastIndex: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try logBox(p)
        guard firstIndex != 0 else { throw ABIError.argument("first_index is 0: a Raft append names its first index") }
        let batch = try flatBatch(count, terms, kinds, lengths, payloads)
        let range: ClosedRange<UInt64>
        if let state = state?.pointee {
            // Under the handle lock so a concurrent named-value write is not lost (the context is kept).
            range = try b.lock.run {
                let context = b.log.hardState.context
                let hard = HardState(term: state.term, vote: state.vote, commit: state.commit, context: context)
                return try b.log.append(batch, at: firstIndex, hardState: hard)
            }
        } else {
            range = try b.log.append(batch, at: firstIndex, hardState: nil)
        }
        lastIndex?.pointee = range.upperBound
    }
}

/// The batch described by the flat arrays of me_log_append (count >= 1; kinds optional; payloads may be
/// NULL when every length is 0). One allocation for the whole batch.
func flatBatch(
    _ count: Int, _ terms: UnsafePointer<UInt64>?, _ kinds: UnsafePointer<UInt8>?, _ lengths: UnsafePointer<UInt32>?,
    _ payloads: UnsafeRawPointer?
) throws(ABIError) -> EntryBatch {
    guard count > 0 else { throw ABIError.argument("count is 0: an append needs at least one entry") }
    let terms = try required(terms, "terms")
    let lengths = try required(lengths, "lengths")
    var total = 0
    for i in 0..<count { total += Int(lengths[i]) }
    if total > 0 && payloads == nil { throw ABIError.null("payloads (the lengths add up to \(total) bytes)") }
    var batch = EntryBatch(reservingBytes: total + count * 40)
    var offset = 0
    for i in 0..<count {
        let n = Int(lengths[i])
        let bytes = UnsafeRawBufferPointer(start: n == 0 ? nil : payloads! + offset, count: n)
        batch.append(term: terms[i], kind: kinds?[i] ?? 0, payload: bytes)
        offset += n
    }
    return batch
}

@_cdecl("me_log_sync")
public func me_log_sync(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try logBox(p)
        try b.log.sync()
    }
}

@_cdecl("me_log_entry")
public func me_log_entry(
    _ p: OpaquePointer?, _ index: UInt64, _ term: UnsafeMutablePointer<UInt64>?, _ kind: UnsafeMutablePointer<UInt8>?,
    _ buf: UnsafeMutableRawPointer?, _ cap: Int, _ len: UnsafeMutablePointer<Int>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try logBox(p)
        let len = try required(len, "len")
        try b.log.withEntry(at: index) { header, payload in
            term?.pointee = header.term
            kind?.pointee = header.kind
            try copyOut(payload, buf, cap, len, what: "entry \(index)")
        }
    }
}

@_cdecl("me_log_read")
public func me_log_read(
    _ p: OpaquePointer?, _ from: UInt64, _ maxCount: Int, _ maxBytes: Int, _ out: UnsafeMutablePointer<UnsafeMutablePointer<me_entries>?>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try logBox(p)
        let out = try required(out, "out")
        out.pointee = nil
        let batch = try b.log.read(from: from, maxCount: maxCount == 0 ? .max : maxCount, maxBytes: maxBytes == 0 ? .max : maxBytes)
        let n = batch.count
        guard let result = malloc(MemoryLayout<me_entries>.stride)?.assumingMemoryBound(to: me_entries.self),
            let terms = malloc(max(n, 1) * 8)?.assumingMemoryBound(to: UInt64.self),
            let kinds = malloc(max(n, 1))?.assumingMemoryBound(to: UInt8.self),
            let offsets = malloc((n + 1) * MemoryLayout<Int>.stride)?.assumingMemoryBound(to: Int.self),
            let payload = malloc(max(batch.payloadBytes, 1))?.assumingMemoryBound(to: UInt8.self)
        else { throw ABIError(Int32(ME_E_INTERNAL), "out of memory reading \(n) entries") }
        var offset = 0
        for i in 0..<n {
            let header = batch.header(at: i)
            terms[i] = header.term
            kinds[i] = header.kind
            offsets[i] = offset
            batch.withPayload(at: i) { bytes in
                if bytes.count > 0 { UnsafeMutableRawPointer(payload + offset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
                offset += bytes.count
            }
        }
        offsets[n] = offset
        result.initialize(to: me_entries(count: n, first_index: from, terms: terms, kinds: kinds, offsets: offsets, payload: payload))
        out.pointee = result
    }
}

@_cdecl("me_log_first_index")
public func me_log_first_index(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) { try readOpen(p, out) { $0.firstIndex } }
}

@_cdecl("me_log_last_index")
public func me_log_last_index(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) { try readOpen(p, out) { $0.lastIndex } }
}

@_cdecl("me_log_durable_index")
public func me_log_durable_index(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) { try readOpen(p, out) { $0.durableIndex } }
}

@_cdecl("me_log_term_at")
public func me_log_term_at(_ p: OpaquePointer?, _ index: UInt64, _ term: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try logBox(p)
        let term = try required(term, "term")
        term.pointee = try b.log.term(at: index)
    }
}

@_cdecl("me_log_truncate_after")
public func me_log_truncate_after(_ p: OpaquePointer?, _ index: UInt64, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try logBox(p)
        try b.log.truncate(after: index)
    }
}

@_cdecl("me_log_remove_prefix")
public func me_log_remove_prefix(_ p: OpaquePointer?, _ index: UInt64, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try logBox(p)
        try b.log.removePrefix(through: index)
    }
}

/// Throws ME_E_CLOSED once me_log_close was called (for the calls that only read in-memory state:
/// Log's own getters do not check). O(1), no allocation.
@inline(__always)
func checkOpen(_ b: LogBox) throws(ABIError) {
    if b.lock.run({ b.closed }) { throw ABIError.closed("log") }
}

/// The log's in-memory getters: `*out = get(log)`, after ME_E_ARGUMENT for a NULL handle, then for a NULL
/// `out` ("out is NULL"), then ME_E_CLOSED once me_log_close was called (in that order). O(1) beyond `get`.
@inline(__always)
func readOpen<T>(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<T>?, _ get: (Log) -> T) throws(ABIError) {
    let b = try logBox(p)
    let out = try required(out, "out")
    try checkOpen(b)
    out.pointee = get(b.log)
}
