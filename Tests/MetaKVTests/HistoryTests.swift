import Foundation
import MetaFSM
@testable import MetaKV
import MetaLog
import MetaSnapshot
import XCTest

/// Older versions live in one arena linked per key (KVHistory.swift): reads at every past revision, after
/// compactions that cut chains and rebuild the arena, in frozen copies and after a snapshot round trip, are
/// those of a model that keeps every key's versions in a plain array.
final class HistoryTests: XCTestCase {
    /// A version as the model keeps it.
    private struct Version: Equatable {
        var mod: Int64, create: Int64, version: Int64, value: [UInt8]
        var tombstone: Bool { version == 0 }
    }

    /// Every key's versions, oldest first, with etcd's compaction rule.
    private struct Model {
        var keys: [[UInt8]: [Version]] = [:]
        var revision: Int64 = 1
        var compacted: Int64 = 0

        mutating func put(_ key: [UInt8], _ value: [UInt8]) {
            revision += 1
            let last = keys[key]?.last
            let live = last.map { !$0.tombstone } ?? false
            keys[key, default: []].append(Version(
                mod: revision, create: live ? last!.create : revision, version: live ? last!.version + 1 : 1, value: value))
        }

        mutating func delete(_ key: [UInt8]) {
            guard let last = keys[key]?.last, !last.tombstone else { return }
            revision += 1
            keys[key, default: []].append(Version(mod: revision, create: 0, version: 0, value: []))
        }

        mutating func compact(_ rev: Int64) {
            compacted = rev
            for (key, versions) in keys {
                guard let keep = versions.lastIndex(where: { $0.mod <= rev }) else { continue }
                let from = versions[keep].tombstone ? keep + 1 : keep
                let rest = Array(versions[from...])
                keys[key] = rest.isEmpty ? nil : rest
            }
        }

        func visible(_ key: [UInt8], at rev: Int64) -> Version? {
            guard let v = keys[key]?.last(where: { $0.mod <= rev }), !v.tombstone else { return nil }
            return v
        }

        var versionCount: Int { keys.values.reduce(0) { $0 + $1.count } }
    }

    private func check(_ store: KVStore, _ model: Model, keys: [[UInt8]], _ what: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(store.revision, model.revision, what, file: file, line: line)
        for rev in max(model.compacted, 1)...model.revision {
            for key in keys {
                let got = store.get(key, at: rev).map {
                    Version(mod: $0.modRevision, create: $0.createRevision, version: $0.version, value: $0.value)
                }
                XCTAssertEqual(got, model.visible(key, at: rev), "\(what): \(String(decoding: key, as: UTF8.self)) at \(rev)",
                               file: file, line: line)
            }
        }
    }

    func testReadsAtEveryRevisionMatchTheModelThroughCompactionsRebuildsCopiesAndSnapshots() throws {
        var rng = SplitMix64(state: 7)
        let keys = (0..<12).map { k("key/\($0)") }
        var m = KVStateMachine()
        var model = Model()
        var rebuilds = 0
        var frozen: [(KVStore, Model)] = []
        for step in 0..<1500 {
            let key = keys[Int(rng.next() % UInt64(keys.count))]
            switch rng.next() % 100 {
            case 0...59:
                let value = k("v\(step)")
                m.entry(.put(PutRequest(key: key, value: value)))
                model.put(key, value)
            case 60...84:
                m.entry(.deleteRange(DeleteRangeRequest(key: key)))
                model.delete(key)
            case 85...86:
                // Keep a frozen copy now and then: compactions after it must not change what it reads.
                if frozen.count < 6 { frozen.append((m.store, model)) }
            case 87...89:
                // Compact somewhere in the older half of what is left, so reads span many revisions.
                let low = max(model.compacted, 1)
                guard low < model.revision else { continue }
                let rev = low + Int64(rng.next() % UInt64((model.revision - low + 1) / 2 + 1))
                let before = m.store.history.count
                m.entry(.compaction(CompactionRequest(revision: rev)))
                model.compact(rev)
                if m.store.history.count < before { rebuilds += 1 }
            default:
                continue
            }
            XCTAssertEqual(m.store.compactRevision, model.compacted == 0 ? -1 : model.compacted)
            if step % 100 == 99 { check(m.store, model, keys: keys, "step \(step)") }
            // Every older version the model keeps is reachable, and the arena holds nothing else but garbage.
            let reachable = m.store.history.count - m.store.history.garbage
            XCTAssertEqual(reachable + m.store.liveKeyCountWithTombstones, model.versionCount, "step \(step)")
        }

        XCTAssertGreaterThan(rebuilds, 3, "compactions rebuilt the arena")
        check(m.store, model, keys: keys, "end")
        for (n, (store, snapshotModel)) in frozen.enumerated() { check(store, snapshotModel, keys: keys, "frozen copy \(n)") }

        var sink = ByteSnapshotSink()
        try m.writeSnapshot(to: &sink)
        var restored = KVStateMachine()
        var source = ByteSnapshotSource(sink.bytes)
        try restored.restoreSnapshot(from: &source)
        check(restored.store, model, keys: keys, "restored")
        XCTAssertEqual(restored.store.history.garbage, 0)
        XCTAssertEqual(restored.store.history.count, m.store.history.count - m.store.history.garbage)
    }
}

extension KVStore {
    /// Keys in the table (each has a latest version, live or a tombstone).
    var liveKeyCountWithTombstones: Int { table.count }
}
