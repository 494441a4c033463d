import Foundation
import SystemPackage
import XCTest

import MetaLog
@testable import MetaSnapshot

/// One state-changing call the store made, or an acknowledgement the test recorded between calls.
enum SnapshotOp {
    case create(name: String, file: Int)
    case write(file: Int, bytes: [UInt8])
    case sync(file: Int)
    case rename(from: String, to: String)
    case remove(name: String)
    /// fsync of the store's directory (`store`) or of its parent.
    case syncDirectory(store: Bool)
    /// The test's call that published snapshot `index` (with these bytes) returned.
    case acknowledged(index: UInt64, body: [UInt8])
    /// The test is about to call retention, which deletes snapshot `index`: from here on it may be gone.
    case releasing(index: UInt64)
}

/// The real file system, recording every state-changing call of a store in one directory (files are
/// numbered at creation and followed through renames).
final class RecordingSnapshotFileSystem: SnapshotFileSystem {
    private let real = PosixSnapshotFileSystem()
    let storeDirectory: FilePath
    private(set) var ops: [SnapshotOp] = []
    private var fileOf: [String: Int] = [:]
    private var descriptors: [Int32: Int] = [:]
    private var nextFile = 0

    init(storeDirectory: String) { self.storeDirectory = FilePath(storeDirectory) }

    func acknowledge(_ index: UInt64, _ body: [UInt8]) { ops.append(.acknowledged(index: index, body: body)) }
    func releasing(_ ids: [SnapshotID]) { for id in ids { ops.append(.releasing(index: id.index)) } }

    private func name(_ path: FilePath) -> String { path.lastComponent?.string ?? path.string }

    func create(_ path: FilePath) throws -> FileDescriptor {
        let fd = try real.create(path)
        nextFile += 1
        fileOf[name(path)] = nextFile
        descriptors[fd.rawValue] = nextFile
        ops.append(.create(name: name(path), file: nextFile))
        return fd
    }

    func openForAppend(_ path: FilePath) throws -> FileDescriptor {
        let fd = try real.openForAppend(path)
        descriptors[fd.rawValue] = fileOf[name(path)] ?? -1
        return fd
    }

    func write(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, path: FilePath) throws {
        try real.write(fd, bytes, path: path)
        ops.append(.write(file: descriptors[fd.rawValue] ?? -1, bytes: [UInt8](bytes)))
    }

    func sync(_ fd: FileDescriptor, path: FilePath) throws {
        try real.sync(fd, path: path)
        ops.append(.sync(file: descriptors[fd.rawValue] ?? -1))
    }

    func close(_ fd: FileDescriptor) {
        descriptors[fd.rawValue] = nil
        real.close(fd)
    }

    func rename(_ from: FilePath, to: FilePath) throws {
        try real.rename(from, to: to)
        fileOf[name(to)] = fileOf.removeValue(forKey: name(from))
        ops.append(.rename(from: name(from), to: name(to)))
    }

    func syncDirectory(_ directory: FilePath) throws {
        try real.syncDirectory(directory)
        ops.append(.syncDirectory(store: directory == storeDirectory))
    }

    func remove(_ path: FilePath) throws {
        try real.remove(path)
        fileOf[name(path)] = nil
        ops.append(.remove(name: name(path)))
    }
}

/// Power loss at every point of a recorded run of the snapshot store: what a strict POSIX model lets the
/// disk hold, opened by a new store, must keep every acknowledged snapshot exactly and list nothing that
/// does not verify.
final class SnapshotPowerLossTests: XCTestCase {
    /// A directory change not yet made durable by an fsync of its directory.
    private enum PendingEntry {
        case link(String, Int)
        case unlink(String)
        case rename(String, String)
    }

    /// The disk as the model knows it after a prefix of the operations.
    private struct Model {
        var durableData: [Int: [UInt8]] = [:]
        var data: [Int: [UInt8]] = [:]
        var entries: [String: Int] = [:]          // the directory as the process sees it
        var durableEntries: [String: Int] = [:]   // as the disk is sure to have it
        var pending: [PendingEntry] = []
        var storeDirectoryDurable = false
        var acknowledged: [(UInt64, [UInt8])] = []

        mutating func apply(_ op: SnapshotOp) {
            switch op {
            case let .create(name, file):
                data[file] = []
                durableData[file] = []
                entries[name] = file
                pending.append(.link(name, file))
            case let .write(file, bytes): data[file, default: []] += bytes
            case let .sync(file): durableData[file] = data[file]
            case let .rename(from, to):
                entries[to] = entries.removeValue(forKey: from)
                pending.append(.rename(from, to))
            case let .remove(name):
                entries[name] = nil
                pending.append(.unlink(name))
            case let .syncDirectory(store):
                if store {
                    durableEntries = entries
                    pending = []
                } else {
                    storeDirectoryDurable = true
                }
            case let .acknowledged(index, body): acknowledged.append((index, body))
            case let .releasing(index): acknowledged.removeAll { $0.0 == index }
            }
        }

        /// The directory with the pending changes in `applied` (by position) done, each whole or not at all.
        func entries(applying applied: Set<Int>) -> [String: Int] {
            var e = durableEntries
            for (k, change) in pending.enumerated() where applied.contains(k) {
                switch change {
                case let .link(name, file): e[name] = file
                case let .unlink(name): e[name] = nil
                case let .rename(from, to):
                    if let file = e.removeValue(forKey: from) { e[to] = file }
                }
            }
            return e
        }

        /// A file's bytes after the loss: its synced bytes, then none, all, or the 4 KiB pages in `pages` of
        /// what was written after them (an unwritten page reads as zeros when a later one was kept, or cuts
        /// the file), or the first `torn` bytes of that (a last write torn at a 512-byte boundary).
        func bytes(of file: Int, mode: Int, rng: inout SplitMix64) -> [UInt8] {
            let synced = durableData[file] ?? []
            let all = data[file] ?? []
            guard all.count > synced.count else { return synced }
            let tail = Array(all[synced.count...])
            switch mode {
            case 0: return synced
            case 1: return all
            case 2:  // a prefix cut at a 512-byte boundary
                let cut = Int(rng.next() % UInt64(tail.count / 512 + 1)) * 512
                return synced + tail.prefix(cut)
            default:  // any subset of 4 KiB pages (file offsets), zeros for the lost ones before the last kept
                var out = synced + tail
                let firstPage = synced.count / 4096
                let lastPage = (all.count - 1) / 4096
                var end = synced.count
                for page in firstPage...lastPage {
                    let lo = max(page * 4096, synced.count), hi = min((page + 1) * 4096, all.count)
                    if rng.next() % 2 == 0 {
                        for i in lo..<hi { out[i] = 0 }
                    } else {
                        end = hi
                    }
                }
                return Array(out.prefix(end))
            }
        }
    }

    private func meta(_ index: UInt64) -> SnapshotMeta {
        SnapshotMeta(stateMachineKind: "kv", lastIndex: index, lastTerm: 1, createdAtNanos: Int64(index))
    }

    /// The recorded run: open a new store, publish two snapshots, keep the newest, receive a third from a
    /// sender in pieces with a sync in between, keep the newest two.
    private func recordRun() throws -> [SnapshotOp] {
        let root = try TempDir()
        defer { root.cleanup() }
        let sender = try SnapshotStore(directory: root.path + "/sender")
        let body30 = randomBytes(11_000, seed: 30)
        let w30 = try sender.create(meta(30), options: SnapshotWriterOptions(chunkBytes: 4096))
        try w30.write(body30)
        try sender.publish(w30)
        let id30 = SnapshotID(index: 30, term: 1)

        let storePath = root.path + "/snapshots"
        let fs = RecordingSnapshotFileSystem(storeDirectory: storePath)
        let store = try SnapshotStore(directory: storePath, fileSystem: fs)
        for (index, size) in [(UInt64(10), 9_000), (20, 14_000)] {
            let body = recordBytes(size)
            let w = try store.create(meta(index), options: SnapshotWriterOptions(chunkBytes: 4096))
            try w.write(body)
            try store.publish(w)
            fs.acknowledge(index, body)
        }
        try retain(store, fs, newest: 1)
        let receiver = try store.receiver(for: id30)
        let size = try sender.fileSize(of: id30)
        while receiver.offset < size {
            try receiver.append(at: receiver.offset, try sender.readRaw(id30, offset: receiver.offset, count: 3000))
            if receiver.offset < size / 2 + 3000 && receiver.offset >= size / 2 { try receiver.sync() }
        }
        try receiver.finish()
        fs.acknowledge(30, body30)
        try retain(store, fs, newest: 2)
        return fs.ops
    }

    /// Retention, announced first: the snapshots it is going to delete may be gone from then on.
    private func retain(_ store: SnapshotStore, _ fs: RecordingSnapshotFileSystem, newest: Int) throws {
        let doomed = Array(try store.list().dropFirst(newest))
        fs.releasing(doomed)
        XCTAssertEqual(try store.retain(newest: newest), doomed)
    }

    func testEveryAcknowledgedSnapshotSurvivesPowerLossAtEveryPoint() throws {
        let ops = try recordRun()
        let points = ops.indices.count + 1
        XCTAssertGreaterThan(ops.filter { if case .syncDirectory = $0 { return true } else { return false } }.count, 5)
        var states = 0
        var rng = SplitMix64(state: 0x5EED)
        var model = Model()
        for point in 0..<points {
            if point > 0 { model.apply(ops[point - 1]) }
            // Pending directory changes: every subset when there are few, else none, all and 8 random ones.
            let p = model.pending.count
            var subsets: [Set<Int>] = []
            if p <= 4 {
                for mask in 0..<(1 << p) { subsets.append(Set((0..<p).filter { mask & (1 << $0) != 0 })) }
            } else {
                subsets = [[], Set(0..<p)]
                for _ in 0..<8 { subsets.append(Set((0..<p).filter { _ in rng.next() % 2 == 0 })) }
            }
            for applied in subsets {
                for mode in [0, 1, 2, 2, 2, 3, 3, 3] {
                    states += 1
                    try check(model, applied: applied, mode: mode, rng: &rng, label: "point \(point)/\(points - 1) applied \(applied.sorted()) mode \(mode)")
                }
            }
            // The store directory itself is durable only once its parent was fsynced: before that, a power
            // cut may drop it whole, which is fine only while nothing was acknowledged.
            if !model.storeDirectoryDurable {
                XCTAssertTrue(model.acknowledged.isEmpty, "point \(point): acknowledged before the store directory was durable")
            }
        }
        XCTAssertGreaterThan(states, 450)
    }

    private func check(_ model: Model, applied: Set<Int>, mode: Int, rng: inout SplitMix64, label: String) throws {
        let root = try TempDir()
        defer { root.cleanup() }
        let dir = root.path + "/snapshots"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        for (name, file) in model.entries(applying: applied) {
            try writeFile(dir + "/" + name, model.bytes(of: file, mode: mode, rng: &rng))
        }
        let store = try SnapshotStore(directory: dir)
        let listed = try store.list()
        for (index, body) in model.acknowledged {
            let id = SnapshotID(index: index, term: 1)
            XCTAssertTrue(listed.contains(id), "\(label): acknowledged snapshot \(index) lost")
            guard listed.contains(id) else { continue }
            XCTAssertEqual(try store.open(id).readAll(), body, "\(label): snapshot \(index)")
        }
        for id in listed {
            XCTAssertNoThrow(try store.open(id).verify(), "\(label): listed \(id) does not verify")
        }
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: dir).contains { $0.hasSuffix(".tmp") },
                       "\(label): temporary file left after open")
    }
}
