import MetaFSM

/// Why InfluxDB rejected a command. `description` is InfluxDB 1.6.7's exact error text (spec 4.21); the
/// node/peer cases, which 1.6.7 cannot apply, use the texts of the clustered meta store (docs/INFLUXDB.md).
public enum InfluxError: Error, Equatable, Sendable, CustomStringConvertible {
    case databaseNameRequired
    case nameTooLong
    case databaseNotFound(String)
    case retentionPolicyRequired
    case retentionPolicyNameRequired
    case replicationFactorTooLow
    case retentionPolicyDurationTooLow
    case incompatibleDurations
    case retentionPolicyExists
    case retentionPolicyConflict
    case retentionPolicyNameExists
    case retentionPolicyNotFound(String)
    case shardGroupNotFound
    case continuousQueryExists
    case invalidSubscriptionURL(String)
    case subscriptionExists
    case subscriptionNotFound
    case usernameRequired
    case userExists
    case userNotFound
    // Clustered-era node commands.
    case nodeExists
    case nodeNotFound
    case nodeIDRequired
    case shardNotReplicated
    case metaNodeAlreadySet
    /// The entry's payload is not a decodable command; applied as a rejected no-op on every replica.
    case undecodable(MetaFSMError)

    /// InfluxDB's exact error text.
    public var description: String {
        switch self {
        case .databaseNameRequired: "database name required"
        case .nameTooLong: "name too long"
        case let .databaseNotFound(db): "database not found: \(db)"
        case .retentionPolicyRequired: "retention policy required"
        case .retentionPolicyNameRequired: "retention policy name required"
        case .replicationFactorTooLow: "replication factor must be greater than 0"
        case .retentionPolicyDurationTooLow: "retention policy duration must be at least 1h0m0s"
        case .incompatibleDurations: "retention policy duration must be greater than the shard duration"
        case .retentionPolicyExists: "retention policy already exists"
        case .retentionPolicyConflict: "retention policy conflicts with an existing policy"
        case .retentionPolicyNameExists: "retention policy name already exists"
        case let .retentionPolicyNotFound(rp): "retention policy not found: \(rp)"
        case .shardGroupNotFound: "shard group not found"
        case .continuousQueryExists: "continuous query already exists"
        case let .invalidSubscriptionURL(u): "invalid subscription URL: \(u)"
        case .subscriptionExists: "subscription already exists"
        case .subscriptionNotFound: "subscription not found"
        case .usernameRequired: "username required"
        case .userExists: "user already exists"
        case .userNotFound: "user not found"
        case .nodeExists: "node already exists"
        case .nodeNotFound: "node not found"
        case .nodeIDRequired: "node id must be greater than 0"
        case .shardNotReplicated: "shard not replicated"
        case .metaNodeAlreadySet: "meta node already set"
        case let .undecodable(e): "undecodable command: \(e)"
        }
    }
}
