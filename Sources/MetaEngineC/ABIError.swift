// How failures cross the C boundary: every Swift error becomes an ME_E_* code plus a message written
// into the caller's me_error (never a Swift error or object).
import CMetaEngine
import MetaEngine
import MetaFSM
import MetaInflux
import MetaLog
import MetaSnapshot

/// A failure decided in this module (bad argument, closed handle, short buffer, missing value).
struct ABIError: Error {
    /// One of the ME_E_* codes.
    let code: Int32
    /// What went wrong, for a person.
    let message: String

    init(_ code: Int32, _ message: String) {
        self.code = code
        self.message = message
    }

    static func argument(_ message: String) -> ABIError { ABIError(Int32(ME_E_ARGUMENT), message) }
    static func null(_ what: String) -> ABIError { ABIError(Int32(ME_E_ARGUMENT), "\(what) is NULL") }
    static func closed(_ what: String) -> ABIError { ABIError(Int32(ME_E_CLOSED), "\(what) is closed") }
    static func tooSmall(_ what: String, needed: Int, cap: Int) -> ABIError {
        ABIError(Int32(ME_E_BUFFER_TOO_SMALL), "\(what) needs \(needed) bytes, the buffer holds \(cap)")
    }
}

/// The code for a Swift error from the libraries.
func abiCode(_ error: any Error) -> Int32 {
    switch error {
    case let e as ABIError: return e.code
    case let e as LogError:
        switch e {
        case .compacted: return Int32(ME_E_COMPACTED)
        case .unavailable: return Int32(ME_E_UNAVAILABLE)
        case .nonContiguous: return Int32(ME_E_NON_CONTIGUOUS)
        case .corruption: return Int32(ME_E_CORRUPT)
        case .locked: return Int32(ME_E_LOCKED)
        case .failed: return Int32(ME_E_FAILED)
        case .noSpace: return Int32(ME_E_NO_SPACE)
        case .io: return Int32(ME_E_IO)
        case .closed: return Int32(ME_E_CLOSED)
        case .invalidArgument: return Int32(ME_E_ARGUMENT)
        case .wouldTruncateCommitted: return Int32(ME_E_WOULD_TRUNCATE_COMMITTED)
        }
    case let e as SnapshotError:
        switch e {
        case .io: return Int32(ME_E_IO)
        case .truncated, .badMagic, .unsupportedVersion, .malformed: return Int32(ME_E_FORMAT)
        case .checksumMismatch, .decompressionFailed: return Int32(ME_E_CORRUPT)
        case .chunkOutOfRange, .invalidArgument, .outOfOrderPiece, .rangeOutOfBounds: return Int32(ME_E_ARGUMENT)
        case .closed: return Int32(ME_E_CLOSED)
        case .notFound: return Int32(ME_E_NOT_FOUND)
        case .alreadyExists: return Int32(ME_E_EXISTS)
        }
    case is MetaFSMError: return Int32(ME_E_FORMAT)
    case let e as EngineError:
        switch e {
        case .log(let inner): return abiCode(inner)
        case .snapshot(let inner): return abiCode(inner)
        case .restoreFailed, .snapshotKindMismatch: return Int32(ME_E_FORMAT)
        case .compacted: return Int32(ME_E_COMPACTED)
        case .unavailable: return Int32(ME_E_UNAVAILABLE)
        case .wouldTruncateCommitted: return Int32(ME_E_WOULD_TRUNCATE_COMMITTED)
        case .nonContiguous: return Int32(ME_E_NON_CONTIGUOUS)
        case .logGap, .badHostState: return Int32(ME_E_CORRUPT)
        case .resultUnavailable: return Int32(ME_E_NOT_FOUND)
        case .invalidArgument: return Int32(ME_E_ARGUMENT)
        case .timedOut: return Int32(ME_E_TIMED_OUT)
        case .closed: return Int32(ME_E_CLOSED)
        case .failed: return Int32(ME_E_FAILED)
        case .cancelled: return Int32(ME_E_INTERNAL)
        case .threadUnavailable: return Int32(ME_E_IO)
        }
    default: return Int32(ME_E_INTERNAL)
    }
}

/// Writes `code` and `message` (NUL-terminated, truncated to fit) into `err` when it is not NULL.
func report(_ err: UnsafeMutablePointer<me_error>?, _ code: Int32, _ message: String) -> Int32 {
    guard let err else { return code }
    err.pointee.code = code
    withUnsafeMutableBytes(of: &err.pointee.message) { out in
        var n = 0
        for byte in message.utf8 where n < out.count - 1 {
            out[n] = byte
            n += 1
        }
        out[n] = 0
    }
    return code
}

/// Runs `body`, mapping a thrown error to its code and message; ME_OK (and an empty message) otherwise.
@inline(__always)
func guarded(_ err: UnsafeMutablePointer<me_error>?, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        if let err {
            err.pointee.code = 0
            err.pointee.message.0 = 0
        }
        return Int32(ME_OK)
    } catch let e as ABIError {
        return report(err, e.code, e.message)
    } catch {
        return report(err, abiCode(error), "\(error)")
    }
}

/// `p`, or throws ME_E_ARGUMENT naming `what`.
@inline(__always)
func required<T>(_ p: T?, _ what: String) throws(ABIError) -> T {
    guard let p else { throw ABIError.null(what) }
    return p
}

/// Copies `bytes` into a caller buffer after setting `*len`; ME_E_BUFFER_TOO_SMALL when it does not fit.
/// `what` is only built on failure (no allocation on the success path).
func copyOut(
    _ bytes: UnsafeRawBufferPointer, _ buf: UnsafeMutableRawPointer?, _ cap: Int, _ len: UnsafeMutablePointer<Int>,
    what: @autoclosure () -> String
) throws {
    len.pointee = bytes.count
    guard bytes.count <= cap else { throw ABIError.tooSmall(what(), needed: bytes.count, cap: cap) }
    if bytes.count > 0 {
        guard let buf else { throw ABIError.null("buffer") }
        buf.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
    }
}
