import ArgumentParser
import Foundation
import MetaEngine
import MetaInflux

/// `metactl engine load`: runs an engine with the InfluxDB meta store under concurrent proposers, for
/// crash tests (SIGKILL at any moment) and to leave a directory `metactl engine stat` can read.
///
/// Proposer threads each take the next sequence number k, propose `command(k)` (below) as one entry and
/// wait until it is durable and applied, then print `ack <index> <k>` at once (write(2), no buffering).
/// The engine is single-node (`commitOnDurable`). Before proposing it prints `start <lastIndex>` (and
/// proposals continue the sequence at k = lastIndex + 1).
struct EngineLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Run an InfluxDB-meta engine under concurrent proposers; print 'ack <index> <k>' per applied entry.",
        discussion: "Command k: k%3==0 CreateDatabase db<k%40>; 1: CreateUser user<k%30>; 2: DropDatabase db<(k/3)%40>.")

    @Option(help: "The engine directory (created if missing).")
    var dir: String

    @Option(help: "How many entries to propose in all.")
    var count: Int = 1_000_000

    @Option(help: "Concurrent proposers (threads).")
    var proposers: Int = 8

    @Option(name: .customLong("snapshot-every"), help: "Automatic snapshot every this many entries (0: never).")
    var snapshotEvery: UInt64 = 2000

    /// Command number k of the load (the crash test derives the same).
    static func command(_ k: UInt64) -> MetaInflux.InfluxCommand {
        switch k % 3 {
        case 0: return .createDatabase(name: "db\(k % 40)", retentionPolicy: nil)
        case 1: return .createUser(name: "user\(k % 30)", hash: "$2a$10$\(k)", admin: false)
        default: return .dropDatabase(name: "db\((k / 3) % 40)")
        }
    }

    func run() throws {
        try EngineStatOutput.run("load") {
            guard proposers >= 1, proposers <= 256, count >= 0 else {
                throw ValidationError("--proposers must be 1...256 and --count at least 0")
            }
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var options = EngineOptions()
            options.commitOnDurable = true
            options.snapshotEveryEntries = snapshotEvery
            options.snapshotEveryBytes = 0
            options.trailingEntries = 1 << 40  // keep the whole log: the crash test replays it from index 1
            let engine = try MetaEngine(directory: dir, stateMachine: InfluxStateMachine(), options: options)
            let start = engine.lastIndex
            // Entries recovered past the durable commit are committed too (single node: durable is committed).
            engine.commit(to: start)
            LogOutput.line("start \(start)")
            let next = LoadCounter(start + 1, limit: start + UInt64(count))
            let failure = LoadFailure()
            let done = DispatchGroup()
            for _ in 0..<proposers {
                done.enter()
                Thread.detachNewThread {
                    defer { done.leave() }
                    while let k = next.take() {
                        do {
                            var batch = EntryBatch()
                            batch.append(term: 1, payload: Self.command(k).encoded())
                            let range = try engine.proposeSync(batch)
                            _ = try engine.waitForAppliedSync(range.upperBound, timeoutNanos: 60_000_000_000)
                            LogOutput.line("ack \(range.upperBound) \(k)")
                        } catch {
                            failure.set(error)
                            next.stop()
                        }
                    }
                }
            }
            done.wait()
            if let error = failure.error { throw error }
            try engine.close()
        }
    }
}

/// The next sequence number for the proposers.
final class LoadCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next: UInt64
    private var limit: UInt64
    init(_ first: UInt64, limit: UInt64) {
        next = first
        self.limit = limit
    }
    func take() -> UInt64? {
        lock.withLock {
            guard next <= limit else { return nil }
            defer { next += 1 }
            return next
        }
    }
    func stop() { lock.withLock { limit = 0 } }
}

/// The first error a proposer hit.
final class LoadFailure: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func set(_ e: Error) { lock.withLock { if error == nil { error = e } } }
}
