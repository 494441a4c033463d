// me_engine_*: MetaEngine running the InfluxDB meta store behind a handle, through the engine's blocking
// (...Sync) calls; the index, term and host-state queries read the engine's own counters.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMetaEngine
import Dispatch
import MetaEngine
import MetaInflux
import MetaLog

/// What a me_engine handle points at.
final class EngineBox {
    let engine: MetaEngine<InfluxStateMachine>
    /// Guards `closed` (held for O(1) only, so a host-state save never stalls a proposal's check).
    let lock = HandleLock()
    /// Serializes the read-modify-write of the host state (term/vote and named values), fsync included.
    let hostLock = HandleLock()
    /// Set by me_engine_close: the engine's counters stay readable after close, the ABI's calls do not.
    var closed = false

    init(_ engine: MetaEngine<InfluxStateMachine>) { self.engine = engine }

    /// The engine, or ME_E_CLOSED after me_engine_close. O(1).
    @inline(__always)
    func open() throws(ABIError) -> MetaEngine<InfluxStateMachine> {
        if lock.run({ closed }) { throw ABIError.closed("engine") }
        return engine
    }
}

@inline(__always)
func engineBox(_ p: OpaquePointer?) throws(ABIError) -> EngineBox { try box(p, EngineBox.self, "engine handle") }

/// Holds the one result an `onApplied` callback hands over (the callback runs at once for an applied index).
final class ResultSlot: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var value: Result<InfluxError??, EngineError>?
}

@_cdecl("me_engine_open")
public func me_engine_open(
    _ dir: UnsafePointer<CChar>?, _ opts: UnsafePointer<me_engine_options>?, _ out: UnsafeMutablePointer<OpaquePointer?>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let dir = try required(dir, "dir")
        try newHandle(out) {
            var options = EngineOptions()
            var clock = InfluxClock.conformance
            if let o = opts?.pointee {
                if o.snapshot_every_entries != 0 { options.snapshotEveryEntries = o.snapshot_every_entries }
                if o.trailing_entries != 0 { options.trailingEntries = o.trailing_entries }
                if o.retain_snapshots != 0 { options.retainSnapshots = Int(o.retain_snapshots) }
                clock = try influxClock(o.clock)
            }
            let engine = try MetaEngine(directory: String(cString: dir), stateMachine: InfluxStateMachine(clock: clock), options: options)
            return handle(EngineBox(engine))
        }
    }
}

@_cdecl("me_engine_close")
public func me_engine_close(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try engineBox(p)
        let first = b.lock.run { () -> Bool in
            defer { b.closed = true }
            return !b.closed
        }
        if first { try b.engine.close() }
    }
}

@_cdecl("me_engine_free")
public func me_engine_free(_ p: OpaquePointer?) {
    guard let p else { return }
    _ = me_engine_close(p, nil)
    release(p, EngineBox.self)
}

@_cdecl("me_engine_propose")
public func me_engine_propose(
    _ p: OpaquePointer?, _ count: Int, _ terms: UnsafePointer<UInt64>?, _ kinds: UnsafePointer<UInt8>?,
    _ lengths: UnsafePointer<UInt32>?, _ payloads: UnsafeRawPointer?, _ firstIndex: UnsafeMutablePointer<UInt64>?,
    _ lastIndex: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let e = try engineBox(p).open()
        let range = try e.proposeSync(try flatBatch(count, terms, kinds, lengths, payloads))
        firstIndex?.pointee = range.lowerBound
        lastIndex?.pointee = range.upperBound
    }
}

@_cdecl("me_engine_append")
public func me_engine_append(
    _ p: OpaquePointer?, _ index: UInt64, _ count: Int, _ terms: UnsafePointer<UInt64>?, _ kinds: UnsafePointer<UInt8>?,
    _ lengths: UnsafePointer<UInt32>?, _ payloads: UnsafeRawPointer?, _ lastIndex: UnsafeMutablePointer<UInt64>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let e = try engineBox(p).open()
        guard index != 0 else { throw ABIError.argument("index is 0: a follower append names its first index") }
        let range = try e.appendSync(try flatBatch(count, terms, kinds, lengths, payloads), at: index)
        lastIndex?.pointee = range.upperBound
    }
}

@_cdecl("me_engine_commit")
public func me_engine_commit(_ p: OpaquePointer?, _ index: UInt64, _ durable: Int32, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let e = try engineBox(p).open()
        try e.commit(to: index, durable: durable != 0)
    }
}

@_cdecl("me_engine_wait_applied")
public func me_engine_wait_applied(
    _ p: OpaquePointer?, _ index: UInt64, _ timeoutMs: UInt64, _ rejected: UnsafeMutablePointer<Int32>?,
    _ msg: UnsafeMutablePointer<CChar>?, _ cap: Int, _ msgLength: UnsafeMutablePointer<Int>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let e = try engineBox(p).open()
        let rejected = try required(rejected, "rejected")
        // Capped at 2^40 ms (about 34 years) so the engine's deadline arithmetic cannot overflow.
        let nanos = min(timeoutMs, 1 << 40) * 1_000_000
        guard try e.waitForAppliedSync(index, timeoutNanos: nanos) else {
            throw ABIError(Int32(ME_E_TIMED_OUT), "entry \(index) was not applied within \(timeoutMs) ms")
        }
        // Applied: the callback runs at once with the kept result.
        let slot = ResultSlot()
        e.onApplied(index) { r in
            slot.value = r
            slot.done.signal()
        }
        slot.done.wait()
        putMessage("", msg, cap, msgLength)
        switch slot.value {
        case .success(let result):
            guard let failure = result ?? nil else {
                rejected.pointee = 0
                return
            }
            rejected.pointee = 1
            putMessage(failure.description, msg, cap, msgLength)
        case .failure(.resultUnavailable):
            rejected.pointee = -1
        case .failure(let error):
            throw error
        case nil:
            throw ABIError(Int32(ME_E_INTERNAL), "no result handed over for entry \(index)")
        }
    }
}

@_cdecl("me_engine_first_index")
public func me_engine_first_index(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) { try required(out, "out").pointee = try engineBox(p).open().firstIndex }
}

@_cdecl("me_engine_last_index")
public func me_engine_last_index(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) { try required(out, "out").pointee = try engineBox(p).open().lastIndex }
}

@_cdecl("me_engine_commit_index")
public func me_engine_commit_index(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) { try required(out, "out").pointee = try engineBox(p).open().commitIndex }
}

@_cdecl("me_engine_applied_index")
public func me_engine_applied_index(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) { try required(out, "out").pointee = try engineBox(p).open().appliedIndex }
}

@_cdecl("me_engine_term_at")
public func me_engine_term_at(
    _ p: OpaquePointer?, _ index: UInt64, _ term: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let e = try engineBox(p).open()
        try required(term, "term").pointee = try e.term(at: index)
    }
}

@_cdecl("me_engine_snapshot")
public func me_engine_snapshot(
    _ p: OpaquePointer?, _ index: UnsafeMutablePointer<UInt64>?, _ term: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let id = try engineBox(p).open().snapshotSync()
        index?.pointee = id.index
        term?.pointee = id.term
    }
}

@_cdecl("me_engine_metadb")
public func me_engine_metadb(
    _ p: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ cap: Int, _ out: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
    _ len: UnsafeMutablePointer<Int>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let e = try engineBox(p).open()
        let len = try required(len, "len")
        out?.pointee = nil
        guard buf != nil || out != nil else { throw ABIError.null("buf and out (one is needed)") }
        let bytes = e.read { $0.store.data.metaDBBytes() }
        if buf != nil {
            try bytes.withUnsafeBytes { try copyOut($0, buf, cap, len, what: "meta.db") }
            return
        }
        let memory = try mallocMetaDB(bytes)
        out?.pointee = memory
        len.pointee = bytes.count
    }
}

@_cdecl("me_engine_host_state")
public func me_engine_host_state(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<me_hard_state>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let e = try engineBox(p).open()
        let out = try required(out, "out")
        let h = e.hostState
        out.pointee = me_hard_state(term: h.term, vote: h.vote, commit: h.commit)
    }
}

@_cdecl("me_engine_set_host_state")
public func me_engine_set_host_state(_ p: OpaquePointer?, _ state: UnsafePointer<me_hard_state>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try engineBox(p)
        let e = try b.open()
        let s = try required(state, "state").pointee
        try b.hostLock.run {
            var h = e.hostState
            h.term = s.term
            h.vote = s.vote
            h.commit = s.commit
            try e.saveHostState(h)
        }
    }
}

/// A host value key: NUL-terminated UTF-8 of 1 ... 65535 bytes.
func engineKey(_ key: UnsafePointer<CChar>?) throws(ABIError) -> String {
    let key = try required(key, "key")
    let n = strlen(key)
    guard n >= 1 && n <= NamedValues.maxKey else { throw ABIError.argument("key length \(n) is outside 1 ... \(NamedValues.maxKey)") }
    guard let s = String(validatingCString: key) else { throw ABIError.argument("key is not UTF-8") }
    return s
}

@_cdecl("me_engine_value_set")
public func me_engine_value_set(
    _ p: OpaquePointer?, _ key: UnsafePointer<CChar>?, _ value: UnsafeRawPointer?, _ valueLength: Int, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try engineBox(p)
        let e = try b.open()
        let key = try engineKey(key)
        let bytes = try valueBytes(value, valueLength)
        try b.hostLock.run {
            var h = e.hostState
            h.values[key] = bytes
            try e.saveHostState(h)
        }
    }
}

@_cdecl("me_engine_value_get")
public func me_engine_value_get(
    _ p: OpaquePointer?, _ key: UnsafePointer<CChar>?, _ buf: UnsafeMutableRawPointer?, _ cap: Int, _ len: UnsafeMutablePointer<Int>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let e = try engineBox(p).open()
        let key = try engineKey(key)
        let len = try required(len, "len")
        guard let value = e.hostState.values[key] else { throw ABIError(Int32(ME_E_NOT_FOUND), "no host value named \"\(key)\"") }
        try value.withUnsafeBytes { try copyOut($0, buf, cap, len, what: "host value \"\(key)\"") }
    }
}
