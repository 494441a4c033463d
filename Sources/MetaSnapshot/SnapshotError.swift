import SystemPackage

/// Every failure MetaSnapshot reports. Cases carry the facts (file, offset, chunk, expected and found values);
/// `description` says what is wrong and where, so an operator can act on it.
///
/// Errors about bad bytes name the offset of the first byte that is known to be bad. When a checksum fails the
/// bad byte can be anywhere in the covered range, so the error names the range's first byte and its length.
public enum SnapshotError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed (`operation` is e.g. "open", "pwrite", "fsync", "rename").
    case io(path: String, operation: String, errno: Int32)
    /// The file ends at `offset` but the format needs `needed` more bytes there.
    case truncated(path: String, offset: UInt64, needed: UInt64, what: String)
    /// A magic number is wrong at `offset`.
    case badMagic(path: String, offset: UInt64, what: String)
    /// The file's major version is not one this reader understands.
    case unsupportedVersion(path: String, offset: UInt64, major: UInt16, minor: UInt16, supportedMajor: UInt16)
    /// A field at `offset` holds a value the format does not allow.
    case malformed(path: String, offset: UInt64, what: String)
    /// The checksum or hash over `length` bytes starting at `offset` does not match.
    case checksumMismatch(path: String, offset: UInt64, length: UInt64, what: String, expected: UInt64, found: UInt64)
    /// Chunk `chunk` (stored at `offset`) passed its hash but did not decompress to its raw length.
    case decompressionFailed(path: String, offset: UInt64, chunk: Int)
    /// A chunk index outside `0..<count` was asked for.
    case chunkOutOfRange(path: String, chunk: Int, count: Int)
    /// A caller-given argument is not allowed (e.g. a chunk size outside the supported range).
    case invalidArgument(String)
    /// A writer or receiver was used after `finish`, `publish` or `abandon`, or after it failed.
    case closed(String)
    /// No published snapshot with this id is in the store.
    case notFound(directory: String, id: SnapshotID)
    /// A published snapshot with this id already exists.
    case alreadyExists(directory: String, id: SnapshotID)
    /// A transfer piece did not start where the receiver's file currently ends.
    case outOfOrderPiece(path: String, expectedOffset: UInt64, pieceOffset: UInt64)
    /// A byte range asked of `readRaw` lies outside the file.
    case rangeOutOfBounds(path: String, offset: UInt64, count: Int, fileSize: UInt64)

    /// The offset of the first bad byte, for errors about the bytes of a file.
    public var offset: UInt64? {
        switch self {
        case .truncated(_, let offset, _, _), .badMagic(_, let offset, _), .unsupportedVersion(_, let offset, _, _, _),
             .malformed(_, let offset, _), .checksumMismatch(_, let offset, _, _, _, _),
             .decompressionFailed(_, let offset, _):
            return offset
        default:
            return nil
        }
    }

    /// One line naming what failed and where (file, offset, call), for logs and `metactl`.
    public var description: String {
        switch self {
        case let .io(path, operation, errno):
            return "\(path): \(operation) failed: \(Errno(rawValue: errno)) (errno \(errno))"
        case let .truncated(path, offset, needed, what):
            return "\(path): truncated at offset \(offset): \(what) needs \(needed) more bytes; the file is incomplete"
        case let .badMagic(path, offset, what):
            return "\(path): bad \(what) magic at offset \(offset); the file is truncated, incomplete, damaged "
                + "or not a MetaSnapshot file"
        case let .unsupportedVersion(path, offset, major, minor, supported):
            return "\(path): format version \(major).\(minor) at offset \(offset) is not supported "
                + "(this reader understands major version \(supported)); use a newer metactl"
        case let .malformed(path, offset, what):
            return "\(path): malformed at offset \(offset): \(what)"
        case let .checksumMismatch(path, offset, length, what, expected, found):
            return "\(path): \(what) checksum mismatch over bytes \(offset)..<\(offset + length) "
                + "(stored 0x\(String(expected, radix: 16)), computed 0x\(String(found, radix: 16))); "
                + "first bad byte at or after offset \(offset)"
        case let .decompressionFailed(path, offset, chunk):
            return "\(path): chunk \(chunk) at offset \(offset) does not decompress to its recorded length"
        case let .chunkOutOfRange(path, chunk, count):
            return "\(path): chunk \(chunk) asked for, the snapshot has \(count) chunks"
        case let .invalidArgument(what):
            return "invalid argument: \(what)"
        case let .closed(what):
            return "\(what) is closed (finished, published, abandoned or failed earlier)"
        case let .notFound(directory, id):
            return "\(directory): no snapshot \(id)"
        case let .alreadyExists(directory, id):
            return "\(directory): snapshot \(id) already exists"
        case let .outOfOrderPiece(path, expected, piece):
            return "\(path): transfer piece starts at offset \(piece) but the received file ends at \(expected); "
                + "resend from offset \(expected)"
        case let .rangeOutOfBounds(path, offset, count, size):
            return "\(path): range \(offset)..<\(offset + UInt64(count)) is outside the file of \(size) bytes"
        }
    }
}
