/// Every error MetaFSM throws: bad bytes from a file, a log entry or a caller, named with where they were found.
public enum MetaFSMError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The protobuf bytes of `message` are not valid wire format at byte `offset` of the input.
    case malformed(message: String, offset: Int, reason: String)
    /// A proto2 `required` field was absent from a `message` that started at byte `offset`.
    case missingRequiredField(message: String, field: String, offset: Int)
    /// A field arrived with a wire type its declaration does not allow.
    case wrongWireType(message: String, field: Int, wireType: Int, offset: Int)
    /// A `Command` carries a type number the InfluxDB proto does not define.
    case unknownCommandType(type: UInt64, offset: Int)
    /// A `Command` lacks the extension field (100 + type) that carries its payload.
    case missingPayload(type: Int, extensionField: Int)
    /// A command stream file (uint32 LE length + bytes records) ends inside record `record` at `offset`.
    case truncatedRecord(record: Int, offset: Int, needed: Int, available: Int)
    /// A snapshot stream ended or was refused while restoring.
    case snapshot(reason: String)

    /// What went wrong, where, in words a person can act on.
    public var description: String {
        switch self {
        case let .malformed(message, offset, reason):
            return "malformed \(message) at byte \(offset): \(reason)"
        case let .missingRequiredField(message, field, offset):
            return "\(message) at byte \(offset): required field \"\(field)\" not set (proto2 needs it; InfluxDB refuses such data)"
        case let .wrongWireType(message, field, wireType, offset):
            return "\(message) at byte \(offset): field \(field) has wire type \(wireType), which its declaration does not allow"
        case let .unknownCommandType(type, offset):
            return "command at byte \(offset): type \(type) is not a meta.Command.Type value (1-19, 21-30)"
        case let .missingPayload(type, ext):
            return "command of type \(type) carries no payload in extension field \(ext)"
        case let .truncatedRecord(record, offset, needed, available):
            return "command record \(record) at byte \(offset): needs \(needed) bytes, only \(available) left (file cut short?)"
        case let .snapshot(reason):
            return "snapshot: \(reason)"
        }
    }
}
