// The kind byte of every log entry the engine stores (MetaLog's `EntryHeader.kind`).

/// What a log entry is, stored in its kind byte. The numbers are part of the on-disk format:
///
/// | kind | name        | what the engine does when it is committed                                        |
/// |------|-------------|----------------------------------------------------------------------------------|
/// | 0    | command     | `StateMachine.apply`; its result is kept for `applied(_:)` and `changes(after:)` |
/// | 1    | noop        | `StateMachine.skip` (a new leader's empty entry): the applied index and term move |
/// | 2    | membership  | `skip`, and the payload becomes the engine's membership bytes (saved in snapshots) |
/// | 3-255| host-defined| `skip`: the host reads such entries itself (e.g. from `changes(after:)`)          |
public enum EntryKind: Sendable, Equatable, Hashable {
    /// A command for the state machine (kind 0).
    case command
    /// A consensus no-op (kind 1).
    case noop
    /// A membership change; the payload is the host's encoding of the new configuration (kind 2).
    case membership
    /// Any other kind byte (3-255): stored and replicated, never given to the state machine.
    case host(UInt8)

    /// The kind byte for this kind.
    public var rawValue: UInt8 {
        switch self {
        case .command: return 0
        case .noop: return 1
        case .membership: return 2
        case let .host(b): return b
        }
    }

    /// The kind of a stored kind byte (every byte is valid).
    public init(rawValue: UInt8) {
        switch rawValue {
        case 0: self = .command
        case 1: self = .noop
        case 2: self = .membership
        default: self = .host(rawValue)
        }
    }
}
