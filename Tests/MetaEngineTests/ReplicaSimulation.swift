import Foundation
import MetaEngine
import MetaLog
import MetaSnapshot
import XCTest

/// A test transport playing a Raft leader over several engines, deterministic from a seed: proposals,
/// replication in random slices, leader changes whose new leader overwrites uncommitted suffixes, followers
/// that lag behind the compaction point and get a snapshot installed, and engines dropped without close
/// (a crash) and reopened at random points. After every step it waits for each engine's apply loop to
/// reach its target and checks the invariants (see `checkInvariants`). Every random choice comes from the
/// seed and every step waits for the engines to settle, so a seed replays the same run.
final class ReplicaSimulation {
    final class Node {
        let directory: String
        var engine: MetaEngine<CounterMachine>?
        var match: UInt64 = 0
        init(directory: String) { self.directory = directory }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let seed: UInt64
    var rng: SplitMix64
    var nodes: [Node]
    var leader = 0
    var term: UInt64 = 1
    /// The committed sequence (index - 1 -> (term, kind, payload)); it only ever grows.
    var committed: [(term: UInt64, kind: UInt8, payload: [UInt8])] = []
    /// Digest of the model state after each committed index (0: the empty state).
    var modelDigests: [UInt64]
    var model = CounterMachine()
    var commit: UInt64 = 0
    var step = 0
    /// One line per step: what happened and where each node stands (compared between two runs of a seed).
    var trace: [String] = []
    let options: EngineOptions

    init(seed: UInt64, nodeCount: Int, root: String) throws {
        self.seed = seed
        rng = SplitMix64(state: seed)
        nodes = (0..<nodeCount).map { Node(directory: root + "/node\($0)") }
        modelDigests = [model.digest]
        var o = EngineOptions()
        o.snapshotEveryEntries = 0  // snapshots are steps of the simulation (background timing is not seeded)
        o.snapshotEveryBytes = 0
        o.trailingEntries = 3
        o.retainSnapshots = 2
        o.segmentBytes = 16 << 10
        o.resultWindow = 64
        options = o
        for node in nodes { node.engine = try MetaEngine(directory: node.directory, stateMachine: CounterMachine(), options: o) }
        _ = try nodes[0].engine!.appendSync(noop(), at: 1)
    }

    var quorum: Int { nodes.count / 2 + 1 }

    func noop() -> EntryBatch {
        var b = EntryBatch()
        b.append(term: term, kind: EntryKind.noop.rawValue, payload: [])
        return b
    }

    func random(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    /// Runs `steps` random steps, checking the invariants after each.
    func run(steps: Int) throws {
        for _ in 0..<steps {
            step += 1
            let what = try randomStep()
            try settleAndCheck()
            trace.append("\(step) \(what) commit=\(commit) " + nodes.map { n in
                n.engine.map { "\($0.appliedIndex)/\($0.lastIndex)/\($0.firstIndex)" } ?? "down"
            }.joined(separator: " "))
        }
        // A full check of every node's log against the committed sequence at the end.
        try checkInvariants(fullLogs: true)
    }

    private func randomStep() throws -> String {
        let roll = random(100)
        switch roll {
        case 0..<25: return try propose()
        case 25..<65:
            let f = random(nodes.count)
            return try replicate(to: f, max: 1 + random(24))
        case 65..<80: return try advanceCommit()
        case 80..<83: return try electLeader()
        case 83..<88: return try crash(random(nodes.count))
        case 88..<95: return try restartOne()
        default: return try snapshot(random(nodes.count))
        }
    }

    private func propose() throws -> String {
        guard let l = nodes[leader].engine else { return "propose: leader down" }
        // Flow control (Raft's inflight limit): the leader runs at most 40 entries ahead of its quorum.
        nodes[leader].match = l.lastIndex
        if l.lastIndex > nodes.map(\.match).sorted(by: >)[quorum - 1] + 40 { return "propose: backpressure" }
        var b = EntryBatch()
        let n = 1 + random(4)
        for _ in 0..<n {
            let kindRoll = random(20)
            if kindRoll == 0 {
                b.append(term: term, kind: EntryKind.membership.rawValue, payload: [UInt8(random(256)), UInt8(nodes.count)])
            } else {
                b.append(term: term, payload: CounterMachine.command(key: UInt64(random(9)), delta: rng.next() >> 40))
            }
        }
        let r = try l.appendSync(b, at: l.lastIndex + 1)
        return "propose \(r)"
    }

    /// Sends node `f` what it lacks from the leader (at most `max` entries), installing the leader's
    /// snapshot first when the leader compacted past what `f` holds.
    private func replicate(to f: Int, max: Int) throws -> String {
        guard f != leader, let l = nodes[leader].engine, let e = nodes[f].engine else { return "replicate: skip" }
        var i = min(e.lastIndex, l.lastIndex)
        var needSnapshot = false
        while i > 0 {
            guard let lt = try? l.term(at: i) else {
                needSnapshot = true
                break
            }
            guard let ft = try? e.term(at: i) else { break }  // compacted on f: committed, equal
            if lt == ft { break }
            i -= 1
        }
        if i + 1 < l.firstIndex { needSnapshot = true }
        var installed = ""
        if needSnapshot {
            guard let id = try l.snapshots().first, id.index + 1 >= l.firstIndex else {
                throw Failure(description: "leader \(leader) compacted to \(l.firstIndex) without a snapshot")
            }
            if !(try e.snapshots().contains(id)) {
                let receiver = try e.snapshotReceiver(for: id)
                let size = try l.snapshotFileSize(id)
                var offset = receiver.offset
                while offset < size {
                    let piece = try l.snapshotBytes(id, offset: offset, count: 1 + random(700))
                    try receiver.append(at: offset, piece)
                    offset += UInt64(piece.count)
                }
                try receiver.finish()
            }
            try e.installSnapshot(id)
            i = id.index
            installed = " after snapshot \(id.index)"
        }
        let upTo = Swift.min(l.lastIndex, i + UInt64(max))
        if upTo > i {
            let batch = try l.entries(from: i + 1, to: upTo + 1)
            _ = try e.appendSync(batch, at: i + 1)
        }
        nodes[f].match = upTo
        e.commit(to: Swift.min(commit, upTo))
        return "replicate \(f) \(i + 1)...\(upTo)\(installed)"
    }

    private func advanceCommit() throws -> String {
        guard let l = nodes[leader].engine else { return "commit: leader down" }
        nodes[leader].match = l.lastIndex
        let n = nodes.map(\.match).sorted(by: >)[quorum - 1]
        guard n > commit, try l.term(at: n) == term else { return "commit: stays \(commit)" }
        let batch = try l.entries(from: commit + 1, to: n + 1)
        for k in 0..<batch.count {
            let h = batch.header(at: k)
            let payload = batch.withPayload(at: k) { Array($0) }
            committed.append((h.term, h.kind, payload))
            if h.kind == 0 {
                payload.withUnsafeBytes { _ = model.apply(index: h.index, term: h.term, payload: $0) }
            } else {
                model.skip(index: h.index, term: h.term)
            }
            modelDigests.append(model.digest)
        }
        commit = n
        try l.commit(to: n, durable: random(2) == 0)
        return "commit \(n)"
    }

    private func electLeader() throws -> String {
        let live = nodes.indices.filter { nodes[$0].engine != nil }
        guard live.count >= quorum else { return "elect: no quorum" }
        func lastTermIndex(_ k: Int) throws -> (UInt64, UInt64) {
            let e = nodes[k].engine!
            return (try e.term(at: e.lastIndex), e.lastIndex)
        }
        var best = live[0]
        for k in live.dropFirst() where try lastTermIndex(k) > lastTermIndex(best) { best = k }
        term += 1
        leader = best
        for k in live {
            try nodes[k].engine!.saveHostState(HostState(term: term, vote: UInt64(best) + 1, values: ["epoch": [UInt8(term & 0xff)]]))
        }
        for node in nodes { node.match = 0 }
        let l = nodes[leader].engine!
        _ = try l.appendSync(noop(), at: l.lastIndex + 1)
        return "elect \(best) term \(term)"
    }

    private func crash(_ k: Int) throws -> String {
        guard let e = nodes[k].engine else { return "crash: \(k) already down" }
        let live = nodes.filter { $0.engine != nil }.count
        guard live > quorum || random(4) == 0 else { return "crash: keep \(k)" }
        e.simulateCrash()
        nodes[k].engine = nil
        return "crash \(k)"
    }

    private func restartOne() throws -> String {
        guard let k = nodes.indices.first(where: { nodes[$0].engine == nil }) else { return "restart: none down" }
        let e = try MetaEngine(directory: nodes[k].directory, stateMachine: CounterMachine(), options: options)
        nodes[k].engine = e
        if k != leader { nodes[k].match = Swift.min(nodes[k].match, e.lastIndex) }
        return "restart \(k) replayed \(e.recovery.entriesReplayed) from \(e.recovery.snapshot?.index ?? 0)"
    }

    private func snapshot(_ k: Int) throws -> String {
        guard let e = nodes[k].engine, e.appliedIndex > 0 else { return "snapshot: skip" }
        let id = try e.snapshotSync()
        return "snapshot \(k) at \(id.index) first \(e.firstIndex)"
    }

    /// Waits for every live engine to apply what it may, then checks the invariants.
    private func settleAndCheck() throws {
        for (k, node) in nodes.enumerated() {
            guard let e = node.engine else { continue }
            let target = Swift.min(e.commitIndex, e.durableIndex)
            guard try e.waitForAppliedSync(target, timeoutNanos: 20_000_000_000) else {
                throw Failure(description: "node \(k) did not apply through \(target) (at \(e.appliedIndex))")
            }
        }
        try checkInvariants(fullLogs: false)
    }

    /// No committed entry is lost or changed (every node's log agrees with the committed sequence where both
    /// have an index at or below its commit); each node's applied state equals the model's state at its
    /// applied index (so the applied sequence is a prefix of the committed one, and replicas at the same
    /// applied index have equal digests); no node knows a commit index past the real one.
    private func checkInvariants(fullLogs: Bool) throws {
        var digestAt: [UInt64: UInt64] = [:]
        for (k, node) in nodes.enumerated() {
            guard let e = node.engine else { continue }
            let applied = e.appliedIndex
            guard e.commitIndex <= commit || k == leader && e.commitIndex == commit else {
                throw Failure(description: "node \(k) commit \(e.commitIndex) past the cluster's \(commit)")
            }
            guard applied <= commit else { throw Failure(description: "node \(k) applied \(applied) past commit \(commit)") }
            let digest = e.read { $0.digest }
            guard digest == modelDigests[Int(applied)] else {
                throw Failure(description: "node \(k) state at \(applied) differs from the committed sequence's")
            }
            if let other = digestAt[applied], other != digest {
                throw Failure(description: "two replicas at \(applied) differ")
            }
            digestAt[applied] = digest
            let hi = Swift.min(e.lastIndex, commit)
            let lo = fullLogs ? e.firstIndex : Swift.max(e.firstIndex, hi > 24 ? hi - 24 : 1)
            guard hi >= lo else { continue }
            let batch = try e.entries(from: lo, to: hi + 1)
            for p in 0..<batch.count {
                let h = batch.header(at: p)
                let c = committed[Int(h.index) - 1]
                let same = h.term == c.term && h.kind == c.kind && batch.withPayload(at: p) { $0.elementsEqual(c.payload) }
                // Entries past the node's own commit may still be an old leader's uncommitted suffix.
                if !same && h.index <= e.commitIndex {
                    throw Failure(description: "node \(k) committed entry \(h.index) differs from the committed sequence")
                }
            }
        }
    }

    func closeAll() {
        for node in nodes { try? node.engine?.close() }
    }
}

final class ReplicaSimulationTests: XCTestCase {
    /// Where simulation engines live: tmpfs when there is one (the simulation checks logic, not fsync).
    func simulationRoot() -> String {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : FileManager.default.temporaryDirectory.path
        let path = base + "/metaengine-sim-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Runs one seed; on failure the seed and the step are in the message (replay: ENGINE_SIM_SEED=<seed>).
    func runSeed(_ seed: UInt64, nodes: Int, steps: Int) throws -> [String] {
        let sim = try ReplicaSimulation(seed: seed, nodeCount: nodes, root: simulationRoot())
        defer { sim.closeAll() }
        do {
            try sim.run(steps: steps)
        } catch {
            let message = "replica simulation seed \(seed) (\(nodes) nodes) failed at step \(sim.step): \(error)\n"
                + "last steps:\n" + sim.trace.suffix(8).joined(separator: "\n")
                + "\nreplay with ENGINE_SIM_SEED=\(seed) ENGINE_SIM_NODES=\(nodes) swift test --filter ReplicaSimulationTests"
            print(message)
            XCTFail(message)
        }
        return sim.trace
    }

    func testTenThousandStepsOverSeveralSeedsKeepEveryInvariant() throws {
        let env = ProcessInfo.processInfo.environment
        if let s = env["ENGINE_SIM_SEED"], let seed = UInt64(s) {
            _ = try runSeed(seed, nodes: Int(env["ENGINE_SIM_NODES"] ?? "3") ?? 3, steps: Int(env["ENGINE_SIM_STEPS"] ?? "2500") ?? 2500)
            return
        }
        var total = 0
        for (seed, nodes) in [(1, 3), (2, 5), (3, 3), (4, 5)] as [(UInt64, Int)] {
            let trace = try runSeed(seed, nodes: nodes, steps: 2500)
            if ProcessInfo.processInfo.environment["ENGINE_SIM_PRINT"] != nil { print(trace.joined(separator: "\n")) }
            total += trace.count
        }
        XCTAssertGreaterThanOrEqual(total, 10_000)
    }

    func testASeedReplaysExactly() throws {
        let first = try runSeed(42, nodes: 5, steps: 300)
        let second = try runSeed(42, nodes: 5, steps: 300)
        XCTAssertEqual(first, second)
        XCTAssertTrue(first.contains { $0.contains("after snapshot") }, "the run installs a snapshot on a lagging follower")
        XCTAssertTrue(first.contains { $0.contains("elect") }, "the run changes leaders")
        XCTAssertTrue(first.contains { $0.contains("crash") && !$0.contains("keep") }, "the run crashes engines")
    }
}
