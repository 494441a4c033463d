import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a child process ended.
enum ChildExit: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    var description: String {
        switch self {
        case let .exited(code): return "exit \(code)"
        case let .signaled(signal): return "signal \(signal)"
        }
    }
}

/// What a finished `metactl` run printed and how it ended.
struct ChildResult: CustomStringConvertible {
    var exit: ChildExit
    var stdout: String
    var stderr: String

    /// Non-empty stdout lines.
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }

    var description: String { "\(exit)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// A child process started with posix_spawn, its stdout and stderr on pipes read with poll(2).
///
/// The test reads stdout while the child runs (to see `synced` lines) and may SIGKILL it at any moment;
/// whatever the child wrote before it died is still drained from the pipe.
final class ChildProcess {
    let pid: pid_t
    private var outFD: Int32
    private var errFD: Int32
    private(set) var stdout: [UInt8] = []
    private(set) var stderr: [UInt8] = []
    private var consumedLines = 0

    /// Spawns `executable` with `arguments`; throws if pipe or posix_spawn fails.
    init(executable: String, arguments: [String]) throws {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0 else { throw SpawnError.failed("pipe", errno) }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0])
            close(outPipe[1])
            throw SpawnError.failed("pipe", errno)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, nil, argv, environ)
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw SpawnError.failed("posix_spawn \(executable)", rc)
        }
        pid = child
        outFD = outPipe[0]
        errFD = errPipe[0]
    }

    deinit {
        if outFD >= 0 { close(outFD) }
        if errFD >= 0 { close(errFD) }
    }

    /// Reads whatever both pipes hold, waiting at most `timeout` seconds for something to arrive.
    /// Returns false once both pipes are at end of file.
    @discardableResult
    func pump(timeout: Double) -> Bool {
        var fds: [pollfd] = []
        if outFD >= 0 { fds.append(pollfd(fd: outFD, events: Int16(POLLIN), revents: 0)) }
        if errFD >= 0 { fds.append(pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)) }
        if fds.isEmpty { return false }
        let ready = poll(&fds, nfds_t(fds.count), Int32(max(0, timeout * 1000)))
        if ready <= 0 { return true }
        var buffer = [UInt8](repeating: 0, count: 65536)
        for entry in fds where entry.revents != 0 {
            let n = read(entry.fd, &buffer, buffer.count)
            if n > 0 {
                if entry.fd == outFD { stdout += buffer[0..<n] } else { stderr += buffer[0..<n] }
            } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                close(entry.fd)
                if entry.fd == outFD { outFD = -1 } else { errFD = -1 }
            }
        }
        return outFD >= 0 || errFD >= 0
    }

    /// Complete stdout lines not returned by an earlier call.
    func newLines() -> [String] {
        let text = String(decoding: stdout, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()  // the part after the last newline is not a complete line yet
        let fresh = Array(lines.dropFirst(consumedLines))
        consumedLines = lines.count
        return fresh
    }

    /// Sends SIGKILL.
    func kill() {
        #if canImport(Glibc)
        _ = Glibc.kill(pid, SIGKILL)
        #else
        _ = Darwin.kill(pid, SIGKILL)
        #endif
    }

    /// Drains both pipes to end of file, then reaps the child.
    func finish() -> ChildExit {
        while pump(timeout: 10) {}
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

enum SpawnError: Error, CustomStringConvertible {
    case failed(String, Int32)
    case noBinary([String])

    var description: String {
        switch self {
        case let .failed(what, code): return "\(what) failed: \(String(cString: strerror(code)))"
        case let .noBinary(places):
            return "no metactl binary next to the tests (looked in \(places.joined(separator: ", "))); "
                + "build it with `swift build --build-tests`"
        }
    }
}

/// Finds and runs the `metactl` binary of this build.
enum Metactl {
    /// The `metactl` executable in the build products directory that holds this test bundle.
    static func path() throws -> String {
        var places: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            places.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        places.append(Bundle.main.bundleURL)
        places.append(Bundle.main.bundleURL.deletingLastPathComponent())
        if let first = CommandLine.arguments.first {
            places.append(URL(fileURLWithPath: first).deletingLastPathComponent())
        }
        for place in places {
            let candidate = place.appendingPathComponent("metactl").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw SpawnError.noBinary(places.map(\.path))
    }

    /// Starts `metactl arguments...` without waiting for it.
    static func start(_ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(executable: path(), arguments: arguments)
    }

    /// Runs `metactl arguments...` to the end and returns what it printed and how it ended.
    static func run(_ arguments: [String]) throws -> ChildResult {
        let child = try start(arguments)
        let exit = child.finish()
        return ChildResult(exit: exit, stdout: child.stdoutText, stderr: child.stderrText)
    }

    /// Runs `metactl arguments...`, failing the test unless it exits with `code`.
    @discardableResult
    static func run(
        _ arguments: [String], expect code: Int32, file: StaticString = #filePath, line: UInt = #line
    ) throws -> ChildResult {
        let result = try run(arguments)
        XCTAssertEqual(
            result.exit, .exited(code), "metactl \(arguments.joined(separator: " ")): \(result)",
            file: file, line: line)
        return result
    }

    /// Runs a command that prints one JSON object and returns it parsed.
    static func json(
        _ arguments: [String], expect code: Int32 = 0, file: StaticString = #filePath, line: UInt = #line
    ) throws -> [String: Any] {
        let result = try run(arguments, expect: code, file: file, line: line)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        guard let dictionary = object as? [String: Any] else {
            XCTFail("not a JSON object: \(result.stdout)", file: file, line: line)
            return [:]
        }
        return dictionary
    }
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init(_ label: String) throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("metactl-tests-\(label)-\(getpid())-\(UInt32.random(in: 0 ... .max))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside this directory.
    func child(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
