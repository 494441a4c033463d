// etcd 3.4's v3 requests as they travel in its raft log (etcdserverpb, raft_internal.proto / rpc.proto).
// Field numbers and meanings: ../shared/spec/etcd-kv.md section 1. The codec is in KVCodec.swift.

/// `RangeRequest` (rpc.proto): read the keys of `key`..`rangeEnd` at a revision.
///
/// `rangeEnd` keeps protobuf presence: `nil` (absent) selects the single key `key`; `[0]` or a present but
/// empty value selects every key >= `key`; anything else the half-open interval `[key, rangeEnd)`.
public struct RangeRequest: Equatable, Sendable {
    /// Sort orders (field 5).
    public enum SortOrder { public static let none: Int32 = 0, ascend: Int32 = 1, descend: Int32 = 2 }
    /// Sort targets (field 6).
    public enum SortTarget {
        /// The `SortTarget` values of etcd's RangeRequest.
        public static let key: Int32 = 0, version: Int32 = 1, create: Int32 = 2, mod: Int32 = 3, value: Int32 = 4
    }
    /// Field 1: first key (never empty once validated).
    public var key: [UInt8] = []
    /// Field 2: end of the range (see the type's description).
    public var rangeEnd: [UInt8]? = nil
    /// Field 3: at most this many keys (<= 0: no limit).
    public var limit: Int64 = 0
    /// Field 4: read at this revision (<= 0: the current one).
    public var revision: Int64 = 0
    /// Field 5: a ``SortOrder`` value.
    public var sortOrder: Int32 = 0
    /// Field 6: a ``SortTarget`` value.
    public var sortTarget: Int32 = 0
    /// Field 7: no effect on the state machine.
    public var serializable = false
    /// Field 8: return keys with empty values.
    public var keysOnly = false
    /// Field 9: return only the count.
    public var countOnly = false
    /// Field 10: drop keys whose mod_revision is below this (0: no bound).
    public var minModRevision: Int64 = 0
    /// Field 11: drop keys whose mod_revision is above this (0: no bound).
    public var maxModRevision: Int64 = 0
    /// Field 12: drop keys whose create_revision is below this (0: no bound).
    public var minCreateRevision: Int64 = 0
    /// Field 13: drop keys whose create_revision is above this (0: no bound).
    public var maxCreateRevision: Int64 = 0
    /// An empty request; set the fields you need.
    public init(key: [UInt8] = [], rangeEnd: [UInt8]? = nil, limit: Int64 = 0, revision: Int64 = 0) {
        self.key = key; self.rangeEnd = rangeEnd; self.limit = limit; self.revision = revision
    }
}

/// `PutRequest` (rpc.proto): write one key.
public struct PutRequest: Equatable, Sendable {
    /// Field 1: the key (never empty once validated).
    public var key: [UInt8] = []
    /// Field 2: the value.
    public var value: [UInt8] = []
    /// Field 3: lease to attach (0: none).
    public var lease: Int64 = 0
    /// Field 4: return the previous key-value.
    public var prevKV = false
    /// Field 5: keep the current value (the key must exist).
    public var ignoreValue = false
    /// Field 6: keep the current lease (the key must exist).
    public var ignoreLease = false
    /// A put of `value` at `key`.
    public init(key: [UInt8] = [], value: [UInt8] = [], lease: Int64 = 0, prevKV: Bool = false,
                ignoreValue: Bool = false, ignoreLease: Bool = false) {
        self.key = key; self.value = value; self.lease = lease; self.prevKV = prevKV
        self.ignoreValue = ignoreValue; self.ignoreLease = ignoreLease
    }
}

/// `DeleteRangeRequest` (rpc.proto): delete the keys of a range (same `rangeEnd` rules as ``RangeRequest``).
public struct DeleteRangeRequest: Equatable, Sendable {
    /// Field 1: first key.
    public var key: [UInt8] = []
    /// Field 2: end of the range (presence kept).
    public var rangeEnd: [UInt8]? = nil
    /// Field 3: return the deleted key-values.
    public var prevKV = false
    /// A delete of `key` (or of `[key, rangeEnd)`).
    public init(key: [UInt8] = [], rangeEnd: [UInt8]? = nil, prevKV: Bool = false) {
        self.key = key; self.rangeEnd = rangeEnd; self.prevKV = prevKV
    }
}

/// `Compare` (rpc.proto): one condition of a transaction.
public struct Compare: Equatable, Sendable {
    /// Result operators (field 1).
    public enum Result { public static let equal: Int32 = 0, greater: Int32 = 1, less: Int32 = 2, notEqual: Int32 = 3 }
    /// Compared quantities (field 2).
    public enum Target {
        /// The `CompareTarget` values of etcd's Compare.
        public static let version: Int32 = 0, create: Int32 = 1, mod: Int32 = 2, value: Int32 = 3, lease: Int32 = 4
    }
    /// The `target_union` oneof (fields 4-8): which member is set, if any, and its value.
    public enum Operand: Equatable, Sendable {
        /// No member set: compares against 0 (or the empty value).
        case none
        /// Field 4.
        case version(Int64)
        /// Field 5.
        case createRevision(Int64)
        /// Field 6.
        case modRevision(Int64)
        /// Field 7.
        case value([UInt8])
        /// Field 8.
        case lease(Int64)
    }
    /// Field 1: a ``Result`` value.
    public var result: Int32 = 0
    /// Field 2: a ``Target`` value.
    public var target: Int32 = 0
    /// Field 3: the key (never empty once validated).
    public var key: [UInt8] = []
    /// Fields 4-8.
    public var operand: Operand = .none
    /// Field 64: end of a key range every key of which must satisfy the compare (presence kept).
    public var rangeEnd: [UInt8]? = nil
    /// A compare of `key`'s `target` against `operand` with `result`.
    public init(result: Int32 = 0, target: Int32 = 0, key: [UInt8] = [], operand: Operand = .none,
                rangeEnd: [UInt8]? = nil) {
        self.result = result; self.target = target; self.key = key; self.operand = operand; self.rangeEnd = rangeEnd
    }
}

/// `RequestOp` (rpc.proto): one operation of a transaction branch (a oneof; `.none` when unset).
public indirect enum RequestOp: Equatable, Sendable {
    /// No member set (refused by validation with `key not found`).
    case none
    /// `request_range` (1).
    case range(RangeRequest)
    /// `request_put` (2).
    case put(PutRequest)
    /// `request_delete_range` (3).
    case deleteRange(DeleteRangeRequest)
    /// `request_txn` (4): a nested transaction.
    case txn(TxnRequest)
}

/// `TxnRequest` (rpc.proto): compares, then the success or the failure branch.
public struct TxnRequest: Equatable, Sendable {
    /// Field 1.
    public var compare: [Compare] = []
    /// Field 2: run when every compare holds.
    public var success: [RequestOp] = []
    /// Field 3: run otherwise.
    public var failure: [RequestOp] = []
    /// A transaction.
    public init(compare: [Compare] = [], success: [RequestOp] = [], failure: [RequestOp] = []) {
        self.compare = compare; self.success = success; self.failure = failure
    }
}

/// `CompactionRequest` (rpc.proto).
public struct CompactionRequest: Equatable, Sendable {
    /// Field 1: compact history below this revision.
    public var revision: Int64 = 0
    /// Field 2: no effect on the state machine.
    public var physical = false
    /// A compaction at `revision`.
    public init(revision: Int64 = 0, physical: Bool = false) { self.revision = revision; self.physical = physical }
}

/// `LeaseGrantRequest` (rpc.proto).
public struct LeaseGrantRequest: Equatable, Sendable {
    /// Field 1: seconds.
    public var ttl: Int64 = 0
    /// Field 2: the lease id (etcd's proposer always fills it in).
    public var id: Int64 = 0
    /// A grant of lease `id` for `ttl` seconds.
    public init(ttl: Int64 = 0, id: Int64 = 0) { self.ttl = ttl; self.id = id }
}

/// `LeaseRevokeRequest` (rpc.proto).
public struct LeaseRevokeRequest: Equatable, Sendable {
    /// Field 1.
    public var id: Int64 = 0
    /// A revoke of lease `id`.
    public init(id: Int64 = 0) { self.id = id }
}

/// `InternalRaftRequest` (raft_internal.proto): one etcd raft log entry.
///
/// The request members are not a proto oneof; etcd applies the first one set in the order range, put,
/// delete_range, txn, compaction, lease_grant, lease_revoke (``request``). Members this machine does not apply
/// (v2, alarm, lease_checkpoint, auth_*) are kept as raw bytes in ``otherFields`` so they re-encode.
public struct InternalRaftRequest: Equatable, Sendable {
    /// Field 100 present.
    public var hasHeader = false
    /// Field 100.1: the request id (no effect on the state).
    public var headerID: UInt64 = 0
    /// Field 100.2.
    public var username: String = ""
    /// Field 100.3.
    public var authRevision: UInt64 = 0
    /// Field 1: legacy id.
    public var id: UInt64 = 0
    /// Field 3.
    public var range: RangeRequest? = nil
    /// Field 4.
    public var put: PutRequest? = nil
    /// Field 5.
    public var deleteRange: DeleteRangeRequest? = nil
    /// Field 6.
    public var txn: TxnRequest? = nil
    /// Field 7.
    public var compaction: CompactionRequest? = nil
    /// Field 8.
    public var leaseGrant: LeaseGrantRequest? = nil
    /// Field 9.
    public var leaseRevoke: LeaseRevokeRequest? = nil
    /// Every other field, verbatim (tags included), in the order read.
    public var otherFields: [UInt8] = []

    /// An empty request.
    public init() {}

    /// A request carrying one KV request, with header id `headerID` (as etcd's proposer sets it).
    public init(_ request: KVRequest, headerID: UInt64 = 0) {
        hasHeader = true
        self.headerID = headerID
        switch request {
        case .range(let r): range = r
        case .put(let r): put = r
        case .deleteRange(let r): deleteRange = r
        case .txn(let r): txn = r
        case .compaction(let r): compaction = r
        case .leaseGrant(let r): leaseGrant = r
        case .leaseRevoke(let r): leaseRevoke = r
        }
    }

    /// The member etcd's applier would take (first set, in etcd's order), or nil when none of the KV members
    /// is set.
    public var request: KVRequest? {
        if let r = range { return .range(r) }
        if let r = put { return .put(r) }
        if let r = deleteRange { return .deleteRange(r) }
        if let r = txn { return .txn(r) }
        if let r = compaction { return .compaction(r) }
        if let r = leaseGrant { return .leaseGrant(r) }
        if let r = leaseRevoke { return .leaseRevoke(r) }
        return nil
    }
}

/// The KV requests an ``InternalRaftRequest`` can carry.
public enum KVRequest: Equatable, Sendable {
    /// Field 3 (answered as a read; etcd 3.4 never logs it).
    case range(RangeRequest)
    /// Field 4.
    case put(PutRequest)
    /// Field 5.
    case deleteRange(DeleteRangeRequest)
    /// Field 6.
    case txn(TxnRequest)
    /// Field 7.
    case compaction(CompactionRequest)
    /// Field 8.
    case leaseGrant(LeaseGrantRequest)
    /// Field 9.
    case leaseRevoke(LeaseRevokeRequest)

    /// The InternalRaftRequest field name (as in the fixtures' expect lines).
    public var fieldName: String {
        switch self {
        case .range: "range"
        case .put: "put"
        case .deleteRange: "delete_range"
        case .txn: "txn"
        case .compaction: "compaction"
        case .leaseGrant: "lease_grant"
        case .leaseRevoke: "lease_revoke"
        }
    }
}
