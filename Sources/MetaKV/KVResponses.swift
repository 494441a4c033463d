// What the key-value machine answers: etcd 3.4's responses (rpc.proto, kv.proto), reduced to the fields the
// state decides (cluster_id, member_id and raft_term of ResponseHeader are the host's), and etcd's errors
// with the exact texts a client sees (spec section 9).

import MetaFSM

/// `mvccpb.KeyValue`: one key as read. `key` and `value` share storage with the state (no bytes copied).
public struct KeyValue: Equatable, Sendable {
    /// The key.
    public var key: [UInt8]
    /// Revision of the put that created this generation of the key.
    public var createRevision: Int64
    /// Revision of the last put of the key.
    public var modRevision: Int64
    /// 1 at creation, +1 per put.
    public var version: Int64
    /// The value (empty for keys_only reads).
    public var value: [UInt8]
    /// Attached lease id, 0 for none.
    public var lease: Int64
    /// A key-value.
    public init(key: [UInt8], createRevision: Int64, modRevision: Int64, version: Int64, value: [UInt8], lease: Int64) {
        self.key = key; self.createRevision = createRevision; self.modRevision = modRevision
        self.version = version; self.value = value; self.lease = lease
    }
}

/// `PutResponse`.
public struct PutResponse: Equatable, Sendable {
    /// header.revision.
    public var revision: Int64
    /// The previous key-value when requested and the key existed.
    public var prevKV: KeyValue?
}

/// `RangeResponse`.
public struct RangeResponse: Equatable, Sendable {
    /// header.revision (the store's revision, never the requested one).
    public var revision: Int64
    /// The keys read.
    public var kvs: [KeyValue]
    /// Whether `limit` cut the list.
    public var more: Bool
    /// Live keys in the range, before limit and filters.
    public var count: Int64
}

/// `DeleteRangeResponse`.
public struct DeleteRangeResponse: Equatable, Sendable {
    /// header.revision.
    public var revision: Int64
    /// Keys deleted.
    public var deleted: Int64
    /// The deleted key-values when requested.
    public var prevKVs: [KeyValue]
}

/// `TxnResponse`. A nested transaction's own revision is 0, as etcd leaves it.
public struct TxnResponse: Equatable, Sendable {
    /// header.revision.
    public var revision: Int64
    /// Whether every compare held.
    public var succeeded: Bool
    /// One response per op of the branch taken.
    public var responses: [ResponseOp]
}

/// `ResponseOp`: the answer to one op of a transaction branch.
public indirect enum ResponseOp: Equatable, Sendable {
    /// `response_range` (1).
    case range(RangeResponse)
    /// `response_put` (2).
    case put(PutResponse)
    /// `response_delete_range` (3).
    case deleteRange(DeleteRangeResponse)
    /// `response_txn` (4).
    case txn(TxnResponse)
}

/// The answer to one applied command.
public enum KVResponse: Equatable, Sendable {
    /// `PutResponse`.
    case put(PutResponse)
    /// `DeleteRangeResponse`.
    case deleteRange(DeleteRangeResponse)
    /// `TxnResponse`.
    case txn(TxnResponse)
    /// `CompactionResponse` (header.revision).
    case compaction(revision: Int64)
    /// `LeaseGrantResponse` (header.revision, ID, granted TTL; error is always "").
    case leaseGrant(revision: Int64, id: Int64, ttl: Int64)
    /// `LeaseRevokeResponse` (header.revision).
    case leaseRevoke(revision: Int64)
    /// A top-level `range` member (etcd 3.4 never logs one; answered like a read-only txn's range).
    case range(RangeResponse)
}

/// Why a command was refused. Every refused command changes nothing. `description` is etcd's client-visible
/// text for the etcd errors.
public enum KVError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An empty key in a put, delete, range op or compare (validation).
    case keyNotProvided
    /// ignore_value with a non-empty value (validation).
    case valueProvided
    /// ignore_lease with a non-zero lease (validation).
    case leaseProvided
    /// More than max-txn-ops compares, success ops or failure ops (validation).
    case tooManyOps
    /// A txn branch puts a key twice or puts into a range it deletes (validation).
    case duplicateKey
    /// An empty txn op (validation), or ignore_value/ignore_lease on a missing key (apply).
    case keyNotFound
    /// The encoded request exceeds max-request-bytes (before the log).
    case requestTooLarge
    /// A put with, or a revoke of, a lease that does not exist; a grant of id 0.
    case leaseNotFound
    /// A grant of an id that is already granted.
    case leaseExists
    /// A grant with TTL above 9,000,000,000 s.
    case leaseTTLTooLarge
    /// A compaction at or below the compaction point, or a range below it.
    case compacted
    /// A compaction or range above the current revision.
    case futureRevision
    /// The payload is not a valid InternalRaftRequest (not an etcd error: etcd never logs such bytes).
    case malformed(MetaFSMError)
    /// The entry carries none of the members this machine applies (v2, alarm, auth, lease_checkpoint).
    case unsupported
    /// A leader-stamped entry shorter than its 8-byte time prefix.
    case missingTimestamp(length: Int)

    /// etcd's text (gRPC status message) for etcd's errors; ours for the last three.
    public var description: String {
        switch self {
        case .keyNotProvided: "etcdserver: key is not provided"
        case .valueProvided: "etcdserver: value is provided"
        case .leaseProvided: "etcdserver: lease is provided"
        case .tooManyOps: "etcdserver: too many operations in txn request"
        case .duplicateKey: "etcdserver: duplicate key given in txn request"
        case .keyNotFound: "etcdserver: key not found"
        case .requestTooLarge: "etcdserver: request is too large"
        case .leaseNotFound: "etcdserver: requested lease not found"
        case .leaseExists: "etcdserver: lease already exists"
        case .leaseTTLTooLarge: "etcdserver: too large lease TTL"
        case .compacted: "etcdserver: mvcc: required revision has been compacted"
        case .futureRevision: "etcdserver: mvcc: required revision is a future revision"
        case .malformed(let e): "metakv: undecodable InternalRaftRequest: \(e)"
        case .unsupported: "metakv: entry carries no put, delete_range, txn, compaction, lease_grant or lease_revoke"
        case .missingTimestamp(let n): "metakv: leader-stamped entry of \(n) bytes has no 8-byte time prefix"
        }
    }
}

/// What ``KVStateMachine/apply(index:term:payload:)`` returns: etcd's response or its error.
public typealias KVResult = Result<KVResponse, KVError>
