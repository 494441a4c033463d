import ArgumentParser
import MetaSnapshot
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// `metactl snapshot`: the snapshot subcommands.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Offline tools for snapshot data.",
        subcommands: [
            SnapshotInspect.self, SnapshotVerify.self, SnapshotCat.self, SnapshotList.self, SnapshotCreate.self,
        ])
}

/// Prints `message` to standard error.
func snapshotWarn(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = try? FileDescriptor.standardError.writeAll(UnsafeRawBufferPointer($0)) }
}

/// Runs `body`; any error is printed to standard error and becomes exit status 1.
@discardableResult
func snapshotExitOnError<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        snapshotWarn("\(error)")
        throw ExitCode(1)
    }
}

/// `metactl snapshot inspect FILE [--json]`.
struct SnapshotInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a snapshot's header, sizes, compression ratio and each chunk's hash status.",
        discussion: """
            Exits 1 when the file is damaged (the report names the first bad offset). A file that does not \
            start with the snapshot magic but decodes as an InfluxDB meta.db is summarised instead (Term, \
            Index, ClusterID, databases and retention policies, users, continuous queries, subscriptions); \
            a file that is neither is refused (exit 1) with both formats' reasons.
            """)

    @Argument(help: "The snapshot (or InfluxDB meta.db) file.") var file: String
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func run() throws {
        do {
            if let metaDB = try snapshotInspectMetaDB(path: file) {
                print(json ? metaDB.json() : metaDB.text())
                return
            }
        } catch let e as SnapshotUnrecognizedFile {
            if json { print(e.json()) } else { snapshotWarn("\(e)") }
            throw ExitCode(1)
        } catch {
            if json { print(SnapshotInspection.unreadableJSON(file: file, error: error)) } else { snapshotWarn("\(error)") }
            throw ExitCode(1)
        }
        let inspection: SnapshotInspection
        do {
            inspection = try SnapshotInspection(reader: SnapshotReader(path: file))
        } catch {
            // Header or footer unreadable: nothing more to show than the error.
            if json {
                print(SnapshotInspection.unreadableJSON(file: file, error: error))
            } else {
                snapshotWarn("\(error)")
            }
            throw ExitCode(1)
        }
        print(json ? inspection.json() : inspection.text())
        if !inspection.ok { throw ExitCode(1) }
    }
}

/// `metactl snapshot verify FILE`.
struct SnapshotVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every chunk hash and the digest without decompressing; exit 0 only if all match.")

    @Argument(help: "The snapshot file.") var file: String

    func run() throws {
        let reader = try snapshotExitOnError {
            let reader = try SnapshotReader(path: file)
            try reader.verify()
            return reader
        }
        print("\(file): ok: \(reader.layout.chunks.count) chunks, \(reader.layout.rawLength) raw bytes")
    }
}

/// `metactl snapshot cat FILE`.
struct SnapshotCat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat", abstract: "Write the decompressed body to standard output (hashes checked).")

    @Argument(help: "The snapshot file.") var file: String

    func run() throws {
        try snapshotExitOnError { try SnapshotFiles.copyBody(of: SnapshotReader(path: file), to: .standardOutput) }
    }
}

/// `metactl snapshot ls DIR`.
struct SnapshotList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List what a snapshot store directory holds (changes nothing).")

    @Argument(help: "The store directory.") var directory: String

    func run() throws {
        let entries = try snapshotExitOnError { try SnapshotListingEntry.list(directory: directory) }
        if entries.isEmpty { print("\(directory): no snapshots") }
        for e in entries {
            let id = e.id.map { "index \($0.index) term \($0.term)" } ?? "-"
            print("\(e.kind.rawValue)\t\(id)\t\(e.bytes) bytes\t\(e.name)\t\(e.status)")
        }
    }
}

/// `metactl snapshot create --in FILE --out SNAP`.
struct SnapshotCreate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Wrap any file's bytes as the body of a new snapshot file.")

    @Option(name: .customLong("in"), help: "The file whose bytes become the body.") var input: String
    @Option(name: .customLong("out"), help: "The snapshot file to create (must not exist).") var output: String
    @Option(help: "Raw bytes per chunk (64 ... 67108864).") var chunkBytes: Int = 1 << 20
    @Option(help: "Last included index recorded in the header.") var index: UInt64 = 0
    @Option(help: "Last included term recorded in the header.") var term: UInt64 = 0
    @Option(help: "State-machine kind recorded in the header.") var kind: String = "raw"
    @Option(help: "Creation time in ns since the epoch (default: now).") var createdNs: Int64?
    @Option(name: .customLong("meta"), help: "User metadata KEY=VALUE (repeatable).") var metadata: [String] = []

    func run() throws {
        let created = createdNs ?? snapshotNowNanos()
        var userMetadata: [String: [UInt8]] = [:]
        for pair in metadata {
            guard let eq = pair.firstIndex(of: "=") else {
                throw ValidationError("--meta wants KEY=VALUE, got \(pair)")
            }
            userMetadata[String(pair[..<eq])] = Array(pair[pair.index(after: eq)...].utf8)
        }
        let meta = SnapshotMeta(
            stateMachineKind: kind, lastIndex: index, lastTerm: term, userMetadata: userMetadata, createdAtNanos: created)
        let summary = try snapshotExitOnError {
            try SnapshotFiles.create(
                from: input, to: output, meta: meta, options: SnapshotWriterOptions(chunkBytes: chunkBytes))
        }
        print("\(output): \(summary.chunkCount) chunks, \(summary.rawBytes) raw bytes, \(summary.fileBytes) file bytes")
    }
}

/// Wall-clock time for `create`'s default creation time (the library never reads the clock).
private func snapshotNowNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
