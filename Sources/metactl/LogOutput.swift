import ArgumentParser
import Foundation
import MetaLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Output and failure handling shared by the `metactl log` subcommands.
///
/// Lines go straight to the file descriptor with write(2), so a reader (a crash test that SIGKILLs us)
/// sees every line the moment it is printed: nothing waits in a stdio buffer.
enum LogOutput {
    /// Exit code for corruption found in the log.
    static let corruptionExit: Int32 = 1
    /// Exit code for every other failure.
    static let failureExit: Int32 = 2

    /// Writes `text` plus a newline to standard output at once.
    static func line(_ text: String) {
        writeAll(text + "\n", to: STDOUT_FILENO)
    }

    /// Writes `text` plus a newline to standard error at once.
    static func errorLine(_ text: String) {
        writeAll(text + "\n", to: STDERR_FILENO)
    }

    /// Writes all of `text` to `fd`, retrying short writes and EINTR. A closed pipe ends quietly.
    static func writeAll(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var done = 0
            while done < buffer.count {
                let n = write(fd, base + done, buffer.count - done)
                if n > 0 {
                    done += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// The exit code for an error thrown by MetaLog or by metactl itself.
    static func exitCode(for error: Error) -> Int32 {
        if case LogError.corruption = error { return corruptionExit }
        return failureExit
    }

    /// Runs `body`; any error is printed as `metactl log <command>: <error>` on stderr and becomes the
    /// matching `ExitCode`, so no failure ends in a trap or a stack dump.
    static func run(_ command: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            errorLine("metactl log \(command): \(error)")
            throw ExitCode(exitCode(for: error))
        }
    }

    /// Fails the command with a usage message (exit code 2).
    static func usage(_ command: String, _ message: String) -> ExitCode {
        errorLine("metactl log \(command): \(message)")
        return ExitCode(failureExit)
    }

    /// `bytes` as lower-case hex.
    static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// One JSON object or array as a single line with sorted keys (`NSNull` for null).
    static func json(_ value: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

/// Errors metactl raises itself (bad arguments that only the log can judge, or a failed payload check).
enum LogToolError: Error, CustomStringConvertible {
    case indexOutOfRange(flag: String, index: UInt64, firstIndex: UInt64, lastIndex: UInt64)
    case noDirectory(String)

    var description: String {
        switch self {
        case let .indexOutOfRange(flag, index, first, last):
            return "\(flag) \(index) is outside the log (first index \(first), last index \(last))"
        case let .noDirectory(directory):
            return "\(directory) is not a log directory (it does not exist or is not a directory)"
        }
    }
}
