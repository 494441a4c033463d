// The key-value StateMachine MetaEngine drives: each log entry is an etcd 3.4 InternalRaftRequest (optionally
// preceded by the leader's 8-byte clock, KVOptions.leaderStampedEntries), answered as etcd answers it.

import MetaFSM
import MetaSnapshot

/// etcd 3.4's v3 key-value store as a deterministic state machine.
///
/// A value type: copying it is O(1) and the copy is frozen (MetaEngine snapshots a copy while apply
/// continues); the first write after a copy duplicates only the chunk array of the key table and the one
/// chunk it touches. Reads (``store``) share keys and values with the state.
public struct KVStateMachine: StateMachine, Sendable {
    /// ``apply(index:term:payload:)`` answers etcd's response or etcd's error.
    public typealias ApplyResult = KVResult
    /// Snapshot header kind.
    public static let kind = "etcd-kv"
    /// Snapshot encoding version (docs/FORMAT.md, "MetaKV snapshot").
    public static let snapshotVersion: UInt32 = 1

    /// The MVCC state.
    public internal(set) var store = KVStore()
    /// Limits (not part of the snapshot: they are the deployment's configuration).
    public var options: KVOptions
    /// Index of the last applied or skipped entry.
    public internal(set) var appliedIndex: UInt64 = 0
    /// Term of the last applied or skipped entry.
    public internal(set) var appliedTerm: UInt64 = 0
    /// The latest entry-carried time seen (nanoseconds; 0 if entries carry none). Never decreases.
    public internal(set) var lastTime: Int64 = 0

    /// Whether plain puts are applied from the entry's bytes (KVPlainPut.swift); tests turn it off to
    /// compare against the general path.
    var plainPuts = true

    /// An empty store (revision 1) with `options`.
    public init(options: KVOptions = KVOptions()) { self.options = options }

    /// Decodes and applies one committed entry: etcd's checks before the log, then its apply rules.
    /// Never traps; an undecodable payload is answered with ``KVError/malformed(_:)`` and changes only the
    /// applied index. Cost: decode (one allocation per key/value) + O(log n) per key written or read; a plain
    /// put (KVPlainPut.swift) is applied from the entry's bytes: one allocation (the value), plus the key's
    /// own array only when the key is new.
    public mutating func apply(index: UInt64, term: UInt64, payload: UnsafeRawBufferPointer) -> KVResult {
        appliedIndex = index
        appliedTerm = term
        var body = payload
        if options.leaderStampedEntries {
            guard payload.count >= 8 else { return .failure(.missingTimestamp(length: payload.count)) }
            let t = Int64(littleEndian: payload.loadUnaligned(as: Int64.self))
            if t > lastTime { lastTime = t }
            body = UnsafeRawBufferPointer(rebasing: payload[8...])
        }
        if plainPuts, let plain = KVPlainPut.parse(body), body.count <= options.maxRequestBytes {
            // A plain put (KVPlainPut.swift): what the general path would do, without decoding into types.
            return store.applyPlainPut(key: UnsafeRawBufferPointer(rebasing: body[plain.key]),
                                       value: [UInt8](UnsafeRawBufferPointer(rebasing: body[plain.value])))
        }
        let request: InternalRaftRequest
        do { request = try InternalRaftRequest(decoding: body) } catch let e as MetaFSMError {
            return .failure(.malformed(e))
        } catch {
            return .failure(.malformed(.malformed(message: "InternalRaftRequest", offset: 0, reason: "\(error)")))
        }
        guard let r = request.request else { return .failure(.unsupported) }
        return applyRequest(r, encodedSize: body.count)
    }

    /// Applies a decoded request as if it were an entry of `encodedSize` bytes (checks, then apply).
    /// Does not move the applied index: use it for requests that do not come from the log (tests, helpers).
    public mutating func applyRequest(_ request: KVRequest, encodedSize: Int) -> KVResult {
        do { try KVValidation.check(request, encodedSize: encodedSize, options: options) } catch {
            return .failure(error)
        }
        return store.apply(request, options: options, time: lastTime)
    }

    /// Records a committed entry that is not applied (only the applied index and term move). O(1).
    public mutating func skip(index: UInt64, term: UInt64) {
        appliedIndex = index
        appliedTerm = term
    }

    /// Leases whose deadline (grant time + TTL, from entry-carried times) is at or before `time`
    /// (nanoseconds), ascending by id: the LeaseRevokes a leader should propose. Leases granted by entries
    /// without a time have grant time 0. O(leases).
    public func expiredLeases(at time: Int64) -> [Int64] {
        store.leases.values.filter { l in
            let (ttlNanos, overflow) = l.ttl.multipliedReportingOverflow(by: 1_000_000_000)
            if overflow { return false }
            let (deadline, o2) = l.grantedAt.addingReportingOverflow(ttlNanos)
            return !o2 && deadline <= time
        }.map(\.id).sorted()
    }

    /// A leader-stamped entry payload: `time` (8 bytes little endian, nanoseconds) + the request's encoding.
    public static func stamp(_ request: InternalRaftRequest, time: Int64) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: time.littleEndian) { out.append(contentsOf: $0) }
        out += request.encoded()
        return out
    }

    // MARK: reads on the applied state (no command, no revision check unless stated)

    /// Reads a range as a Range request would, with etcd's revision checks (compacted / future) and options.
    /// Values are shared with the state, not copied. O(log n + keys in the range).
    public func range(_ r: RangeRequest) -> Result<RangeResponse, KVError> {
        if r.key.isEmpty { return .failure(.keyNotProvided) }
        if let e = store.checkRangeRevision(r) { return .failure(e) }
        return .success(store.rangeOp(r, headerRevision: store.revision, options: options))
    }
}
