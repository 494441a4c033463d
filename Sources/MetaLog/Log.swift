#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The segmented log: a durable, append-only sequence of entries with contiguous indexes, stored in
/// segment files in one directory (see docs/FORMAT.md).
///
/// One writer and many concurrent readers: every method is thread-safe. Appends, truncation, prefix
/// removal, `sync` and `saveHardState` are serialized; reads run concurrently with each other and only
/// wait while the writer publishes (briefly) or truncates. Entries become visible to readers once
/// written; they are durable according to `LogOptions.durability`.
///
/// After a failed fsync the log is fail-stopped: every later call throws `LogError.failed`.
public final class Log: @unchecked Sendable {
    let directory: String
    let options: LogOptions
    let fs: any FileSystem
    /// Guards the reader-visible state below (segments, their offsets, first/last, failure, closed).
    let state = ReadWriteLock()
    /// Serializes writers (append, truncate, removePrefix, sync, saveHardState, close).
    let writer = Mutex()
    let group = GroupCommit()

    // Reader-visible state: written only with `writer` held AND `state` write-locked.
    @exclusivity(unchecked) var segments: [Segment] = []
    @exclusivity(unchecked) var first: UInt64 = 1
    @exclusivity(unchecked) var last: UInt64 = 0
    @exclusivity(unchecked) var failure: LogError?
    @exclusivity(unchecked) var isClosed = false
    @exclusivity(unchecked) var hard = HardState()
    @exclusivity(unchecked) var report = RecoveryReport(segments: 0, tornTail: nil)
    /// Runs of terms of every entry in the segments (see `term(at:)`).
    @exclusivity(unchecked) var terms = TermTable()
    /// The term of `first - 1` (the snapshot boundary), kept durably in the first-index file.
    @exclusivity(unchecked) var boundaryTerm: UInt64 = 0
    /// The highest index known durable (`durableIndex`).
    @exclusivity(unchecked) var synced: UInt64 = 0

    // Writer-only state (under `writer`).
    @exclusivity(unchecked) var writeBuffer: UnsafeMutableRawPointer
    @exclusivity(unchecked) var writeCapacity: Int
    @exclusivity(unchecked) var frameStarts: [UInt32] = []
    /// Sequence number of the current hard state (0: never saved); the highest on disk wins at open.
    @exclusivity(unchecked) var hardSeq: UInt64 = 0
    /// Where the newest hard state is on disk: a record in the active segment (id, offset), or nil for
    /// the `hardstate` file.
    @exclusivity(unchecked) var hardLocation: (segment: UInt64, offset: Int)?
    /// Term runs of the entries being written, published with them (reused buffer).
    @exclusivity(unchecked) var pendingRuns: [(index: UInt64, term: UInt64)] = []
    @exclusivity(unchecked) var nextSegmentId: UInt64 = 1
    @exclusivity(unchecked) var zeroedEnd = 0
    @exclusivity(unchecked) var dirtyUntil = 0
    /// The durable index the last sync marker on disk records.
    @exclusivity(unchecked) var lastMarked: UInt64 = 0
    /// Offset in the active segment from which write-back has not been started yet (manual mode).
    @exclusivity(unchecked) var writebackStart = 0
    @exclusivity(unchecked) var zeroBuffer: UnsafeMutableRawPointer?
    /// Files of dropped segments kept for reuse (`LogOptions.recycleSegments`, Recycling.swift); the newest
    /// is taken first.
    @exclusivity(unchecked) var spares: [Spare] = []
    /// Segments created in a spare file since opening.
    @exclusivity(unchecked) var recycled = 0
    @exclusivity(unchecked) var lockFD: Int32 = -1

    /// Opens (creating if needed) the log in `directory`, takes the directory lock and recovers: a torn
    /// tail at the end of the last segment is cut (see `recovery`); anything else that is damaged throws
    /// `.corruption` naming the file, byte offset and index. Throws `.locked` if another process or
    /// another `Log` holds the directory. Cost: reads each sealed segment's footer and scans the last
    /// segment only.
    public init(directory: String, options: LogOptions = LogOptions()) throws {
        self.directory = directory
        self.options = options
        self.fs = options.fileSystem
        writeCapacity = 1 << 16
        writeBuffer = .allocate(byteCount: writeCapacity, alignment: 8)
        guard options.segmentBytes >= 4096 && options.segmentBytes <= 1 << 31 else {
            throw LogError.invalidArgument("segmentBytes \(options.segmentBytes) is outside 4 KiB ... 2 GiB")
        }
        do {
            try open()
        } catch {
            releaseAll()
            throw error
        }
    }

    deinit {
        releaseAll()
        writeBuffer.deallocate()
        zeroBuffer?.deallocate()
    }

    func releaseAll() {
        for segment in segments { segment.release(fs) }
        if lockFD >= 0 {
            fs.close(lockFD)
            lockFD = -1
        }
    }

    /// What opening found and did (segment count, torn tail cut).
    public var recovery: RecoveryReport { state.withReadLock { report } }

    /// The first readable index; for an empty log `lastIndex + 1` (1 for a new log).
    public var firstIndex: UInt64 { state.withReadLock { first } }

    /// The last index (0 for a new empty log; `firstIndex - 1` when empty).
    public var lastIndex: UInt64 { state.withReadLock { last } }

    /// The last saved hard state (all zeros if never saved).
    public var hardState: HardState { state.withReadLock { hard } }

    /// Number of segment files.
    public var segmentCount: Int { state.withReadLock { segments.count } }

    /// Throws if the log is closed or fail-stopped. Needs `writer` or a state lock held.
    @inline(__always)
    func checkUsable() throws(LogError) {
        if let failure { throw failure }
        if isClosed { throw LogError.closed }
    }

    /// Makes the log fail-stop after `error` (an fsync or write failure) and returns the error to throw.
    func failStop(_ error: FileSystemError) -> LogError {
        let failed = LogError.failed(
            underlying: "\(error.operation) of \(error.path) failed: \(LogError.errnoName(error.errno))")
        state.withWriteLock { failure = failed }
        return failed
    }

    /// Maps a system-call failure to a LogError (ENOSPC becomes `.noSpace`).
    func mapError(_ error: FileSystemError) -> LogError {
        if error.errno == ENOSPC { return .noSpace(file: Log.fileName(error.path)) }
        return .io(operation: error.operation, file: error.path, errno: error.errno)
    }

    static func fileName(_ path: String) -> String {
        if let slash = path.lastIndex(of: "/") { return String(path[path.index(after: slash)...]) }
        return path
    }

    func path(_ name: String) -> String { directory + "/" + name }

    /// Syncs what is written (manual durability) and closes the log, releasing the directory lock.
    /// Later calls throw `.closed`. Closing twice is a no-op. Throws if the final sync fails.
    public func close() throws {
        writer.lock()
        defer { writer.unlock() }
        if isClosed { return }
        var syncError: LogError?
        if failure == nil {
            do {
                try syncLocked()
                try writeMarkerLocked()
                try syncLocked(force: true)
            } catch { syncError = error }
        }
        if failure == nil, let active = segments.last, !active.sealed {
            // Give back the unused preallocation: the next open then finds nothing after the last frame
            // and need not search it (it preallocates again). Either file size is a valid log.
            try? fs.ftruncate(active.fd, size: Int64(active.dataEnd), path: active.path)
        }
        state.withWriteLock {
            isClosed = true
            releaseAll()
            segments.removeAll()
        }
        if let syncError { throw syncError }
    }
}
