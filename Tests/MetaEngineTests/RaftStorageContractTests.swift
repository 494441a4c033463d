import MetaEngine
import MetaLog
import MetaSnapshot
import XCTest

// Small adapters with the shapes of etcd raft's `Storage` and hashicorp/raft's `LogStore`, `StableStore`
// and `SnapshotStore`, written over MetaEngine the way a host would, and their documented semantics
// exercised: first/last index, the term at the snapshot boundary, entries with a size cap that still
// return one entry, ErrCompacted / ErrUnavailable, ErrLogNotFound, "not found" for stable keys, and a
// snapshot install through the snapshot store's sink.

/// etcd raft's Storage errors.
enum EtcdStorageError: Error, Equatable {
    case compacted, unavailable, snapshotTemporarilyUnavailable
}

/// etcd raft's `Storage` over an engine.
struct EtcdStorage<M: StateMachine & Sendable> where M.ApplyResult: Sendable {
    let engine: MetaEngine<M>

    private func map(_ error: Error) -> Error {
        switch error as? EngineError {
        case .compacted?: return EtcdStorageError.compacted
        case .unavailable?: return EtcdStorageError.unavailable
        default: return error
        }
    }

    /// InitialState: the hard state and the membership (ConfState) bytes.
    func initialState() -> (term: UInt64, vote: UInt64, commit: UInt64, confState: [UInt8]) {
        let h = engine.hostState
        return (h.term, h.vote, h.commit, engine.membershipBytes)
    }

    /// Entries(lo, hi, maxSize): [lo, hi), at most maxSize payload bytes but at least one entry.
    func entries(_ lo: UInt64, _ hi: UInt64, maxSize: UInt64) throws -> [Entry] {
        do {
            let batch = try engine.entries(from: lo, to: hi, maxBytes: maxSize > UInt64(Int.max) ? .max : Int(maxSize))
            return (0..<batch.count).map { batch.entry(at: $0) }
        } catch { throw map(error) }
    }

    /// Term(i), including the snapshot boundary FirstIndex() - 1.
    func term(_ i: UInt64) throws -> UInt64 {
        do { return try engine.term(at: i) } catch { throw map(error) }
    }

    func firstIndex() -> UInt64 { engine.firstIndex }
    func lastIndex() -> UInt64 { engine.lastIndex }

    /// Snapshot(): the newest snapshot's metadata and stored bytes.
    func snapshot() throws -> (index: UInt64, term: UInt64, data: [UInt8]) {
        guard let id = try engine.snapshots().first else { throw EtcdStorageError.snapshotTemporarilyUnavailable }
        return (id.index, id.term, try engine.snapshotBytes(id, offset: 0, count: Int(try engine.snapshotFileSize(id))))
    }
}

/// hashicorp/raft's errors.
enum HashicorpError: Error, Equatable {
    case logNotFound, keyNotFound
}

/// hashicorp/raft's `LogStore` + `StableStore` + `SnapshotStore` over an engine.
struct HashicorpStores<M: StateMachine & Sendable> where M.ApplyResult: Sendable {
    let engine: MetaEngine<M>

    // LogStore
    func firstIndex() -> UInt64 { engine.firstIndex > engine.lastIndex ? 0 : engine.firstIndex }
    func lastIndex() -> UInt64 { engine.firstIndex > engine.lastIndex ? 0 : engine.lastIndex }
    func getLog(_ index: UInt64) throws -> Entry {
        do { return try engine.entry(at: index) } catch { throw HashicorpError.logNotFound }
    }
    func storeLogs(_ logs: [Entry]) throws {
        guard let first = logs.first else { return }
        var batch = EntryBatch()
        for l in logs { batch.append(term: l.term, kind: l.kind, payload: l.payload) }
        _ = try engine.appendSync(batch, at: first.index)
    }
    /// DeleteRange(min, max): a prefix (compaction after a snapshot) or a suffix (a conflict).
    func deleteRange(_ min: UInt64, _ max: UInt64) throws {
        if min <= engine.firstIndex {
            try engine.compactLog(through: max)
        } else {
            try engine.truncateSync(after: min - 1)
        }
    }

    // StableStore
    func set(_ key: String, _ value: [UInt8]) throws {
        var h = engine.hostState
        h.values[key] = value
        try engine.saveHostState(h)
    }
    func get(_ key: String) throws -> [UInt8] {
        guard let v = engine.hostState.values[key] else { throw HashicorpError.keyNotFound }
        return v
    }
    func setUint64(_ key: String, _ value: UInt64) throws { try set(key, withUnsafeBytes(of: value.bigEndian) { Array($0) }) }
    func getUint64(_ key: String) throws -> UInt64 {
        let b = try get(key)
        return b.reduce(0) { $0 << 8 | UInt64($1) }
    }

    // SnapshotStore
    struct Meta: Equatable {
        var id: String
        var index: UInt64
        var term: UInt64
        var size: UInt64
    }
    /// List(): newest first.
    func list() throws -> [Meta] {
        try engine.snapshots().map { Meta(id: $0.fileName, index: $0.index, term: $0.term, size: try engine.snapshotFileSize($0)) }
    }
    /// Open(id): the meta and the bytes a follower's sink receives.
    func open(_ id: SnapshotID) throws -> (Meta, [UInt8]) {
        let size = try engine.snapshotFileSize(id)
        return (Meta(id: id.fileName, index: id.index, term: id.term, size: size), try engine.snapshotBytes(id, offset: 0, count: Int(size)))
    }
    /// Create(version, index, term, ...): a sink; Close() publishes it, then FSM.Restore installs it.
    func create(index: UInt64, term: UInt64) throws -> SnapshotReceiver {
        try engine.snapshotReceiver(for: SnapshotID(index: index, term: term))
    }
}

final class RaftStorageContractTests: XCTestCase {
    func entriesBatch(_ range: ClosedRange<UInt64>, term: UInt64) -> EntryBatch {
        var b = EntryBatch()
        for i in range { b.append(term: term, payload: [UInt8](repeating: UInt8(i), count: 10)) }
        return b
    }

    func testEtcdStorageSemantics() throws {
        let dir = makeTemporaryDirectory(self)
        var o = quietOptions()
        o.commitOnDurable = true
        let engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: o)
        let s = EtcdStorage(engine: engine)
        // A new storage: FirstIndex 1, LastIndex 0, Term(0) = 0, no entries.
        XCTAssertEqual(s.firstIndex(), 1)
        XCTAssertEqual(s.lastIndex(), 0)
        XCTAssertEqual(try s.term(0), 0)
        XCTAssertEqual(try s.entries(1, 1, maxSize: .max), [])
        XCTAssertThrowsError(try s.term(1)) { XCTAssertEqual($0 as? EtcdStorageError, .unavailable) }
        XCTAssertThrowsError(try s.snapshot()) { XCTAssertEqual($0 as? EtcdStorageError, .snapshotTemporarilyUnavailable) }

        _ = try engine.proposeSync(entriesBatch(1...5, term: 1))
        _ = try engine.proposeSync(entriesBatch(6...10, term: 2))
        XCTAssertEqual(try (0...10).map { try s.term($0) }, [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2])
        // maxSize caps the payload bytes but one entry always comes back.
        XCTAssertEqual(try s.entries(3, 7, maxSize: 0).map(\.index), [3])
        XCTAssertEqual(try s.entries(3, 7, maxSize: 25).map(\.index), [3, 4])
        XCTAssertEqual(try s.entries(3, 7, maxSize: .max).map(\.index), [3, 4, 5, 6])
        XCTAssertEqual(try s.entries(3, 7, maxSize: .max).map(\.payload), (3...6).map { [UInt8](repeating: UInt8($0), count: 10) })
        XCTAssertThrowsError(try s.entries(9, 12, maxSize: .max)) { XCTAssertEqual($0 as? EtcdStorageError, .unavailable) }
        XCTAssertThrowsError(try s.term(11)) { XCTAssertEqual($0 as? EtcdStorageError, .unavailable) }

        // Snapshot at 10 with no trailing window: the log is compacted through 10.
        try waitApplied(engine, 10)
        let id = try engine.snapshotSync()
        XCTAssertEqual(id, SnapshotID(index: 10, term: 2))
        XCTAssertEqual(s.firstIndex(), 11)
        XCTAssertEqual(s.lastIndex(), 10)
        XCTAssertEqual(try s.term(10), 2, "Term(FirstIndex - 1) is the snapshot's term")
        XCTAssertThrowsError(try s.term(9)) { XCTAssertEqual($0 as? EtcdStorageError, .compacted) }
        XCTAssertThrowsError(try s.entries(10, 11, maxSize: .max)) { XCTAssertEqual($0 as? EtcdStorageError, .compacted) }
        let snap = try s.snapshot()
        XCTAssertEqual([snap.index, snap.term], [10, 2])
        XCTAssertEqual(try SnapshotReader(source: SnapshotMemoryStorage(snap.data)).meta.id, id)
        _ = try engine.proposeSync(entriesBatch(11...11, term: 3))
        XCTAssertEqual(try s.entries(11, 12, maxSize: 0).map(\.term), [3])

        try engine.saveHostState(HostState(term: 3, vote: 2))
        let initial = s.initialState()
        XCTAssertEqual([initial.term, initial.vote, initial.commit], [3, 2, 11])
        try engine.close()
    }

    func testHashicorpLogStableAndSnapshotStores() throws {
        let leaderDir = makeTemporaryDirectory(self)
        let followerDir = makeTemporaryDirectory(self)
        var o = quietOptions()
        o.commitOnDurable = true
        let leader = try MetaEngine(directory: leaderDir, stateMachine: CounterMachine(), options: o)
        let follower = try MetaEngine(directory: followerDir, stateMachine: CounterMachine(), options: quietOptions())
        let l = HashicorpStores(engine: leader)
        let f = HashicorpStores(engine: follower)
        // LogStore: empty is (0, 0); GetLog of a missing index is ErrLogNotFound.
        XCTAssertEqual([f.firstIndex(), f.lastIndex()], [0, 0])
        XCTAssertThrowsError(try f.getLog(1)) { XCTAssertEqual($0 as? HashicorpError, .logNotFound) }
        try f.storeLogs((1...6).map { Entry(index: $0, term: 1, payload: CounterMachine.command(key: $0, delta: 1)) })
        XCTAssertEqual([f.firstIndex(), f.lastIndex()], [1, 6])
        XCTAssertEqual(try f.getLog(4), Entry(index: 4, term: 1, payload: CounterMachine.command(key: 4, delta: 1)))
        // A conflicting suffix: DeleteRange(5, 6), then the new leader's entries.
        try f.deleteRange(5, 6)
        XCTAssertEqual(f.lastIndex(), 4)
        try f.storeLogs([Entry(index: 5, term: 2, payload: CounterMachine.command(key: 5, delta: 9))])
        XCTAssertEqual(try f.getLog(5).term, 2)
        // StableStore: CurrentTerm / LastVoteCand round trip; a missing key is "not found".
        try f.setUint64("CurrentTerm", 2)
        try f.set("LastVoteCand", Array("node-a".utf8))
        XCTAssertEqual(try f.getUint64("CurrentTerm"), 2)
        XCTAssertEqual(try f.get("LastVoteCand"), Array("node-a".utf8))
        XCTAssertThrowsError(try f.get("LastVoteTerm")) { XCTAssertEqual($0 as? HashicorpError, .keyNotFound) }
        // Compaction through DeleteRange(first, n) is refused past the newest snapshot.
        XCTAssertThrowsError(try f.deleteRange(1, 3)) {
            XCTAssertEqual($0 as? EngineError, .invalidArgument("cannot compact through 3: the newest snapshot covers only 0"))
        }

        // SnapshotStore: the leader's snapshot, listed newest first, opened and sent through a sink.
        _ = try leader.proposeSync(counterBatch(1...40, term: 4))
        try waitApplied(leader, 40)
        let first = try leader.snapshotSync()
        _ = try leader.proposeSync(counterBatch(41...45, term: 4))
        try waitApplied(leader, 45)
        let second = try leader.snapshotSync()
        XCTAssertEqual(try l.list().map(\.index), [45, 40])
        XCTAssertEqual(try l.list().first?.id, second.fileName)
        XCTAssertNotEqual(first, second)
        let (meta, bytes) = try l.open(second)
        XCTAssertEqual(meta.size, UInt64(bytes.count))
        let sink = try f.create(index: meta.index, term: meta.term)
        var at: UInt64 = 0
        for piece in stride(from: 0, to: bytes.count, by: 64).map({ Array(bytes[$0..<min($0 + 64, bytes.count)]) }) {
            try sink.append(at: at, piece)
            at += UInt64(piece.count)
        }
        try sink.finish()  // Close()
        XCTAssertTrue(try follower.installSnapshot(second))  // FSM.Restore
        XCTAssertEqual(follower.read { $0.digest }, leader.read { $0.digest })
        XCTAssertEqual([f.firstIndex(), f.lastIndex()], [0, 0], "the follower's log is empty after the install")
        XCTAssertEqual(try follower.term(at: 45), 4)
        try leader.close()
        try follower.close()
    }
}
