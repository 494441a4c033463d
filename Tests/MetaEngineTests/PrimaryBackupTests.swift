import Foundation
import MetaEngine
import MetaLog
import XCTest

/// The replicator of a metadata service: a backup engine follows a primary's `changes(after:)` stream,
/// appending each applied entry at its index and committing it. Both sides restart at random points (drops
/// without close); the backup resumes from its own applied index, or from the primary's snapshot once the
/// primary compacted past it, and ends at the primary's digest.
final class PrimaryBackupTests: XCTestCase {
    func testBackupFollowsThePrimaryAcrossRestartsAndCompactionAndConverges() async throws {
        let primaryDir = makeTemporaryDirectory(self)
        let backupDir = makeTemporaryDirectory(self)
        var po = quietOptions()
        po.commitOnDurable = true
        po.trailingEntries = 5
        var bo = quietOptions()
        bo.trailingEntries = 5
        var rng = SplitMix64(state: 2024)
        var primary = try MetaEngine(directory: primaryDir, stateMachine: CounterMachine(), options: po)
        var backup = try MetaEngine(directory: backupDir, stateMachine: CounterMachine(), options: bo)
        var installs = 0
        var restarts = 0
        var resumedFrom: [UInt64] = []

        /// Pulls up to `limit` changes the primary has applied into the backup.
        func pull(_ limit: Int) async throws {
            var pulled = 0
            while pulled < limit && backup.appliedIndex < primary.appliedIndex {
                var iterator = primary.changes(after: backup.appliedIndex).makeAsyncIterator()
                resumedFrom.append(backup.appliedIndex)
                do {
                    var batch = EntryBatch()
                    let first = backup.appliedIndex + 1
                    while pulled < limit && first + UInt64(batch.count) <= primary.appliedIndex {
                        guard let c = try await iterator.next() else { break }
                        XCTAssertEqual(c.index, first + UInt64(batch.count))
                        batch.append(term: c.term, kind: c.kind.rawValue, payload: c.payload)
                        pulled += 1
                    }
                    if batch.isEmpty { return }
                    let range = try await backup.append(batch, at: first)
                    backup.commit(to: range.upperBound)
                    try waitApplied(backup, range.upperBound)
                } catch EngineError.compacted {
                    // The primary compacted past the backup: ship its newest snapshot.
                    let id = try XCTUnwrap(try primary.snapshots().first)
                    let receiver = try backup.snapshotReceiver(for: id)
                    let size = try primary.snapshotFileSize(id)
                    while receiver.offset < size {
                        try receiver.append(at: receiver.offset, try primary.snapshotBytes(id, offset: receiver.offset, count: 4096))
                    }
                    try receiver.finish()
                    XCTAssertTrue(try backup.installSnapshot(id))
                    installs += 1
                }
            }
        }

        for step in 0..<400 {
            switch rng.next() % 10 {
            case 0, 1, 2, 3:
                var batch = EntryBatch()
                for _ in 0..<(1 + rng.next() % 6) {
                    batch.append(term: 1, payload: CounterMachine.command(key: rng.next() % 11, delta: rng.next() >> 44))
                }
                _ = try await primary.propose(batch)
            case 4, 5, 6:
                try await pull(Int(1 + rng.next() % 10))
            case 7:
                if primary.appliedIndex > 0 { _ = try await primary.snapshot() }
            case 8:
                primary.simulateCrash()
                primary = try MetaEngine(directory: primaryDir, stateMachine: CounterMachine(), options: po)
                restarts += 1
            default:
                if rng.next() % 2 == 0 && backup.appliedIndex > 0 { _ = try await backup.snapshot() }
                backup.simulateCrash()
                backup = try MetaEngine(directory: backupDir, stateMachine: CounterMachine(), options: bo)
                restarts += 1
            }
            // The primary commits what is durable: after its restart everything proposed is applied again.
            try waitApplied(primary, primary.lastIndex)
            XCTAssertLessThanOrEqual(backup.appliedIndex, primary.appliedIndex, "step \(step)")
        }
        while backup.appliedIndex < primary.appliedIndex { try await pull(50) }
        XCTAssertEqual(backup.appliedIndex, primary.appliedIndex)
        XCTAssertEqual(backup.read { $0.digest }, primary.read { $0.digest })
        XCTAssertGreaterThan(installs, 0, "the backup fell behind the compaction point at least once")
        XCTAssertGreaterThan(restarts, 40)
        XCTAssertTrue(resumedFrom.contains { $0 > 0 }, "the backup resumed from its own applied index")
        try primary.close()
        try backup.close()
    }
}
