// meta.Command: field 1 = type, payload in extension field 100 + type (spec 1.1). Fields of each payload
// in the spec's order; optional fields that matter by presence are Swift optionals.

import MetaFSM

/// One InfluxDB meta command, decoded. Case order and numbers follow `meta.Command.Type`.
public enum InfluxCommand: Equatable, Sendable {
    case createNode(host: String, rand: UInt64)  // 1
    case deleteNode(id: UInt64, force: Bool)  // 2
    case createDatabase(name: String, retentionPolicy: RetentionPolicyInfo?)  // 3
    case dropDatabase(name: String)  // 4
    case createRetentionPolicy(database: String, retentionPolicy: RetentionPolicyInfo)  // 5
    case dropRetentionPolicy(database: String, name: String)  // 6
    case setDefaultRetentionPolicy(database: String, name: String)  // 7
    case updateRetentionPolicy(database: String, name: String, newName: String?, duration: Int64?, replicaN: UInt32?)  // 8
    case createShardGroup(database: String, policy: String, timestamp: Int64)  // 9
    case deleteShardGroup(database: String, policy: String, shardGroupID: UInt64)  // 10
    case createContinuousQuery(database: String, name: String, query: String)  // 11
    case dropContinuousQuery(database: String, name: String)  // 12
    case createUser(name: String, hash: String, admin: Bool)  // 13
    case dropUser(name: String)  // 14
    case updateUser(name: String, hash: String)  // 15
    case setPrivilege(username: String, database: String, privilege: Int32)  // 16
    case setData(InfluxData)  // 17
    case setAdminPrivilege(username: String, admin: Bool)  // 18
    case updateNode(id: UInt64, host: String)  // 19
    case createSubscription(name: String, database: String, retentionPolicy: String, mode: String, destinations: [String])  // 21
    case dropSubscription(name: String, database: String, retentionPolicy: String)  // 22
    case removePeer(id: UInt64?, addr: String)  // 23
    case createMetaNode(httpAddr: String, tcpAddr: String, rand: UInt64)  // 24
    case createDataNode(httpAddr: String, tcpAddr: String)  // 25
    case updateDataNode(id: UInt64, host: String, tcpHost: String)  // 26
    case deleteMetaNode(id: UInt64)  // 27
    case deleteDataNode(id: UInt64)  // 28
    case setMetaNode(httpAddr: String, tcpAddr: String, rand: UInt64)  // 29
    case dropShard(id: UInt64)  // 30

    /// The `meta.Command.Type` number.
    public var typeNumber: Int {
        switch self {
        case .createNode: 1
        case .deleteNode: 2
        case .createDatabase: 3
        case .dropDatabase: 4
        case .createRetentionPolicy: 5
        case .dropRetentionPolicy: 6
        case .setDefaultRetentionPolicy: 7
        case .updateRetentionPolicy: 8
        case .createShardGroup: 9
        case .deleteShardGroup: 10
        case .createContinuousQuery: 11
        case .dropContinuousQuery: 12
        case .createUser: 13
        case .dropUser: 14
        case .updateUser: 15
        case .setPrivilege: 16
        case .setData: 17
        case .setAdminPrivilege: 18
        case .updateNode: 19
        case .createSubscription: 21
        case .dropSubscription: 22
        case .removePeer: 23
        case .createMetaNode: 24
        case .createDataNode: 25
        case .updateDataNode: 26
        case .deleteMetaNode: 27
        case .deleteDataNode: 28
        case .setMetaNode: 29
        case .dropShard: 30
        }
    }

    /// The Go name of the type (`CreateDatabaseCommand`, ...), as InfluxDB's enum prints it.
    public var typeName: String { InfluxCommand.typeNames[typeNumber] ?? "Type(\(typeNumber))" }

    static let typeNames: [Int: String] = [
        1: "CreateNodeCommand", 2: "DeleteNodeCommand", 3: "CreateDatabaseCommand", 4: "DropDatabaseCommand",
        5: "CreateRetentionPolicyCommand", 6: "DropRetentionPolicyCommand",
        7: "SetDefaultRetentionPolicyCommand", 8: "UpdateRetentionPolicyCommand", 9: "CreateShardGroupCommand",
        10: "DeleteShardGroupCommand", 11: "CreateContinuousQueryCommand", 12: "DropContinuousQueryCommand",
        13: "CreateUserCommand", 14: "DropUserCommand", 15: "UpdateUserCommand", 16: "SetPrivilegeCommand",
        17: "SetDataCommand", 18: "SetAdminPrivilegeCommand", 19: "UpdateNodeCommand",
        21: "CreateSubscriptionCommand", 22: "DropSubscriptionCommand", 23: "RemovePeerCommand",
        24: "CreateMetaNodeCommand", 25: "CreateDataNodeCommand", 26: "UpdateDataNodeCommand",
        27: "DeleteMetaNodeCommand", 28: "DeleteDataNodeCommand", 29: "SetMetaNodeCommand", 30: "DropShardCommand",
    ]
}

/// Splits a command stream file (records of uint32 little-endian length + that many bytes, the fixture
/// format) into the byte ranges of its records.
///
/// - Throws: ``MetaFSMError/truncatedRecord(record:offset:needed:available:)`` when the file ends inside a record.
public func influxCommandRecords(_ bytes: UnsafeRawBufferPointer) throws -> [Range<Int>] {
    try commandStreamRecords(bytes)
}

/// Writes commands in the fixture stream format (uint32 little-endian length + encoded `Command`).
public func influxCommandStream(_ commands: [InfluxCommand]) -> [UInt8] {
    commandStream(commands.lazy.map { $0.encoded() })
}
