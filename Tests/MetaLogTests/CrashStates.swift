import Foundation
import MetaLog

/// Replays recorded operations and builds the crash states a strict POSIX power-loss model allows:
/// a file's data and size are durable only after its own fsync/fdatasync; a directory entry (create,
/// rename, unlink, mkdir) only after its directory's fsync. Of a file's pending writes a crash keeps
/// none, all, an in-order prefix, any subset of 4 KiB pages, or all with the last one torn at a 512-byte
/// boundary; of a directory's pending entries none, all, an in-order prefix or an in-order subset, a
/// rename whole or not at all.
struct CrashStates {
    /// A file's durable bytes and the operations since its last sync.
    struct FileState {
        var durable: [UInt8] = []
        var pending: [RecordedOp] = []
    }

    /// What a crash keeps of pending operations.
    enum Choice: CaseIterable {
        case none, all, prefix, pages, tornLast, subset
    }

    private(set) var files: [Int: FileState] = [:]
    /// Durable namespace: path -> inode; durable directories.
    private(set) var names: [String: Int] = [:]
    private(set) var directories: Set<String> = []
    /// Pending entry operations per directory, in order.
    private var pendingEntries: [String: [RecordedOp]] = [:]

    /// A model whose durable state is `names`/`contents` (everything on disk, synced) under `root`.
    init(root: String, names: [String: Int] = [:], contents: [Int: [UInt8]] = [:], directories: Set<String> = []) {
        self.names = names
        self.directories = directories.union([root])
        for (inode, bytes) in contents { files[inode] = FileState(durable: bytes, pending: []) }
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    /// Applies one recorded operation (marks are the caller's).
    mutating func apply(_ op: RecordedOp) {
        switch op {
        case let .create(path, inode):
            files[inode] = files[inode] ?? FileState()
            pendingEntries[CrashStates.parent(path), default: []].append(op)
        case let .mkdir(path), let .unlink(path):
            pendingEntries[CrashStates.parent(path), default: []].append(op)
        case let .rename(from, _):
            pendingEntries[CrashStates.parent(from), default: []].append(op)
        case let .write(inode, _, _), let .truncate(inode, _), let .preallocate(inode, _):
            files[inode, default: FileState()].pending.append(op)
        case let .fsync(inode):
            guard var file = files[inode] else { return }
            file.durable = CrashStates.applying(file.pending, to: file.durable)
            file.pending = []
            files[inode] = file
        case let .syncDirectory(path):
            let entries = pendingEntries.removeValue(forKey: path) ?? []
            CrashStates.applyEntries(entries, names: &names, directories: &directories)
        case .mark:
            break
        }
    }

    static func applying(_ ops: [RecordedOp], to start: [UInt8]) -> [UInt8] {
        var bytes = start
        for op in ops { apply(op, to: &bytes) }
        return bytes
    }

    static func apply(_ op: RecordedOp, to bytes: inout [UInt8]) {
        switch op {
        case let .write(_, offset, data):
            if bytes.count < offset + data.count { bytes += [UInt8](repeating: 0, count: offset + data.count - bytes.count) }
            bytes.replaceSubrange(offset..<(offset + data.count), with: data)
        case let .truncate(_, size):
            if size < bytes.count { bytes.removeSubrange(size...) } else { bytes += [UInt8](repeating: 0, count: size - bytes.count) }
        case let .preallocate(_, end):
            if bytes.count < end { bytes += [UInt8](repeating: 0, count: end - bytes.count) }
        default:
            break
        }
    }

    static func applyEntries(_ entries: [RecordedOp], names: inout [String: Int], directories: inout Set<String>) {
        for entry in entries {
            switch entry {
            case let .create(path, inode): names[path] = inode
            case let .mkdir(path): directories.insert(path)
            case let .unlink(path): names[path] = nil
            case let .rename(from, to):
                if let inode = names.removeValue(forKey: from) { names[to] = inode }
            default: break
            }
        }
    }

    /// The namespace a running process sees (every pending entry applied, directory by directory):
    /// path -> inode. A process killed here and restarted opens these files.
    var volatileNames: [String: Int] {
        var names = self.names
        var directories = self.directories
        for key in pendingEntries.keys.sorted() {
            CrashStates.applyEntries(pendingEntries[key] ?? [], names: &names, directories: &directories)
        }
        return names
    }

    /// Whether anything is pending (a crash here can differ from the durable state).
    var hasPending: Bool { files.values.contains { !$0.pending.isEmpty } || pendingEntries.values.contains { !$0.isEmpty } }

    /// Chooses pending operations per `choice` (random parts from `rng`) and returns the crash state:
    /// directories and path -> bytes.
    func crashState(_ choice: Choice, _ rng: inout SplitMix64) -> (directories: Set<String>, files: [String: [UInt8]]) {
        var names = self.names
        var directories = self.directories
        for key in pendingEntries.keys.sorted() {
            let entries = pendingEntries[key] ?? []
            var kept: [RecordedOp]
            switch choice {
            case .none: kept = []
            case .all, .pages, .tornLast: kept = entries
            case .prefix: kept = Array(entries.prefix(Int.random(in: 0...entries.count, using: &rng)))
            case .subset: kept = entries.filter { _ in Bool.random(using: &rng) }
            }
            CrashStates.applyEntries(kept, names: &names, directories: &directories)
        }
        var result: [String: [UInt8]] = [:]
        for (path, inode) in names {
            guard directories.contains(CrashStates.parent(path)) else { continue }
            let file = files[inode] ?? FileState()
            result[path] = CrashStates.content(file, choice, &rng)
        }
        return (directories, result)
    }

    static func content(_ file: FileState, _ choice: Choice, _ rng: inout SplitMix64) -> [UInt8] {
        let pending = file.pending
        if pending.isEmpty { return file.durable }
        switch choice {
        case .none:
            return file.durable
        case .all:
            return applying(pending, to: file.durable)
        case .prefix, .subset:
            return applying(Array(pending.prefix(Int.random(in: 0...pending.count, using: &rng))), to: file.durable)
        case .tornLast:
            guard let lastWrite = pending.lastIndex(where: { if case .write = $0 { return true } else { return false } }),
                case let .write(inode, offset, data) = pending[lastWrite]
            else { return applying(pending, to: file.durable) }
            var bytes = applying(Array(pending[..<lastWrite]), to: file.durable)
            // The torn write keeps whole 512-byte sectors from its start, then stops.
            let sectorEnd = ((offset / 512) + Int.random(in: 0...max(0, (offset + data.count) / 512 - offset / 512), using: &rng)) * 512
            let keep = max(0, min(data.count, sectorEnd - offset))
            if keep > 0 { apply(.write(inode: inode, offset: offset, bytes: Array(data[0..<keep])), to: &bytes) }
            return applying(Array(pending[(lastWrite + 1)...]).filter { if case .write = $0 { return false } else { return true } }, to: bytes)
        case .pages:
            // Every 4 KiB page independently from before or after the pending writes; the size from either.
            let after = applying(pending, to: file.durable)
            let before = file.durable
            let size = Bool.random(using: &rng) ? after.count : before.count
            var bytes = [UInt8](repeating: 0, count: size)
            var page = 0
            while page < size {
                let end = min(size, page + 4096)
                let source = Bool.random(using: &rng) ? after : before
                for i in page..<end where i < source.count { bytes[i] = source[i] }
                page = end
            }
            return bytes
        }
    }

    /// Writes a crash state under `target` (replacing `root` in every path).
    static func materialize(_ state: (directories: Set<String>, files: [String: [UInt8]]), root: String, target: String) {
        let manager = FileManager.default
        try? manager.removeItem(atPath: target)
        try? manager.createDirectory(atPath: target, withIntermediateDirectories: true)
        func mapped(_ path: String) -> String { target + path.dropFirst(root.count) }
        for directory in state.directories.sorted() where directory != root {
            try? manager.createDirectory(atPath: mapped(directory), withIntermediateDirectories: true)
        }
        for (path, bytes) in state.files {
            manager.createFile(atPath: mapped(path), contents: Data(bytes))
        }
    }
}
