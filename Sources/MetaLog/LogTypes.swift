/// When an append is durable.
public enum Durability: Sendable, Equatable {
    /// Every `append` returns only after its entries are on disk (one fdatasync per call).
    case syncEveryAppend
    /// Concurrent `append` calls share one fdatasync; each returns when its own entries are on disk.
    case groupCommit
    /// `append` only writes (to the page cache); entries are durable after the next `sync()`.
    case manual
}

/// How a log is opened.
public struct LogOptions: Sendable {
    /// Rotation size: a segment is preallocated to this size and sealed when the next batch would not fit.
    /// Between 4 KiB and 2 GiB.
    public var segmentBytes: Int = 64 << 20
    /// When appends are durable.
    public var durability: Durability = .syncEveryAppend
    /// Whether opening also checks the CRC of every frame in sealed segments (cost: reads the whole log
    /// once, so open time grows with log size). Off by default: sealed segments are then checked when
    /// read (`.corruption` on read) and by `LogInspector.verify`.
    public var verifyOnOpen: Bool = false
    /// Whether `truncate(after:)` and a conflict overwrite in `append(_:at:hardState:)` refuse to drop
    /// an entry at or below the hard state's commit index (`.wouldTruncateCommitted`). Off by default.
    public var protectCommitted: Bool = false
    /// Whether appends keep a stretch ahead of the write position zero-filled, so that a sync after an
    /// append flushes only data, not the extent conversions of preallocated space (on ext4/xfs such a
    /// conversion makes every fdatasync commit the journal: ~1.5x its time). nil (the default) means on in
    /// the sync modes and off in `.manual`, where a bulk load synced once would write its bytes twice;
    /// turn it on for a `.manual` log synced after every few appends (a Raft host syncing once per Ready,
    /// MetaEngine). Cost: as many bytes of zeros written as of frames, outside any sync's critical part.
    public var zeroFillAhead: Bool? = nil
    /// How many files of sealed segments dropped by `removePrefix(through:)`, `truncate(after:)` or
    /// `reset(after:term:)` are kept to become later segments (as raft-engine's log recycling does). A
    /// recycled file's blocks are already allocated and written, so appends into it need no zero-fill ahead
    /// and their fdatasyncs no extent conversions: a log that compacts after snapshots appends at the speed
    /// of a preallocated file. Spare files live in the log
    /// directory as `spare-<segment file name>.tmp` (each up to `segmentBytes`) and survive `close()` and
    /// restarts: opening keeps at most this many (the newest) after checking that each is the whole sealed
    /// segment its name says, and deletes the rest, so lowering the value (or 0) gives the disk space back
    /// at the next open. 0 turns recycling off. Default 2.
    public var recycleSegments: Int = 2
    /// How many bytes of the newest frames opening maps into the page tables ahead of the reads
    /// (MADV_POPULATE_READ, newest segment first), so that reading recent entries after a restart (what a
    /// Raft leader does to catch followers up) takes no page faults. Pages not in the page cache are read
    /// from disk during the open: at most this many bytes, so open time stays bounded for a large log.
    /// The pages count in the process's resident size (shared, file-backed, reclaimable). 0 leaves every
    /// page to its first read. Default 256 MiB.
    public var prefaultBytes: Int = 256 << 20
    /// The file-system seam (tests inject faults through it).
    package var fileSystem: any FileSystem = PosixFileSystem()
    /// Bytes zero-filled ahead of the write position (see `zeroFillAhead`), so that an fdatasync after an append
    /// does not also have to commit extent conversion metadata. 0 disables it.
    package var zeroFillAheadBytes: Int = 1 << 20
    /// The zeroed stretch ahead is topped up in steps of this many bytes (at least 4 KiB). Each step's
    /// extent conversion costs one journal commit in the next sync, and its zeros are flushed by that
    /// sync: small steps pay many commits, large ones put many zeros into one sync (a 1 MiB step made
    /// every ~100th sync of a 64-entry batch flush a megabyte: p99 ~2.5x raw-prealloc's). 128 KiB: in
    /// eight alternating rounds of append-sync-batch, 540 k entries/s against 514 k with 64 KiB steps
    /// (raw-prealloc 578 k), p99 360 us against 347 (raw-prealloc 267).
    package var zeroFillStepBytes: Int = 128 << 10
    /// In manual durability, write-back of written data is started (not waited for) every this many
    /// bytes, so the disk works while the caller keeps appending and `sync()` has less to wait for.
    /// 0 disables it.
    package var writebackChunkBytes: Int = 1 << 20

    /// Options with the given rotation size and durability policy.
    public init(segmentBytes: Int = 64 << 20, durability: Durability = .syncEveryAppend, verifyOnOpen: Bool = false,
                protectCommitted: Bool = false) {
        self.segmentBytes = segmentBytes
        self.durability = durability
        self.verifyOnOpen = verifyOnOpen
        self.protectCommitted = protectCommitted
    }
}

/// Facts of one entry without its payload.
public struct EntryHeader: Sendable, Equatable {
    /// The entry's log index.
    public var index: UInt64
    /// The term it was appended in.
    public var term: UInt64
    /// An application-defined kind byte.
    public var kind: UInt8

    /// A header with the given facts.
    public init(index: UInt64, term: UInt64, kind: UInt8) {
        self.index = index
        self.term = term
        self.kind = kind
    }
}

/// One entry with its own payload copy (convenience for single reads).
public struct Entry: Sendable, Equatable {
    /// The entry's log index.
    public var index: UInt64
    /// The term it was appended in.
    public var term: UInt64
    /// An application-defined kind byte.
    public var kind: UInt8
    /// The payload bytes.
    public var payload: [UInt8]

    /// An entry with the given facts and payload.
    public init(index: UInt64, term: UInt64, kind: UInt8 = 0, payload: [UInt8]) {
        self.index = index
        self.term = term
        self.kind = kind
        self.payload = payload
    }
}

/// Raft hard state, stored atomically and checksummed (see `Log.saveHardState`).
public struct HardState: Sendable, Equatable {
    /// The current term.
    public var term: UInt64
    /// The candidate voted for in `term` (0: none).
    public var vote: UInt64
    /// The highest index known to be committed.
    public var commit: UInt64
    /// Opaque bytes the host stores with it (membership, cluster id...).
    public var context: [UInt8]

    /// A hard state with the given fields (all zero by default).
    public init(term: UInt64 = 0, vote: UInt64 = 0, commit: UInt64 = 0, context: [UInt8] = []) {
        self.term = term
        self.vote = vote
        self.commit = commit
        self.context = context
    }
}

/// A torn write that opening cut off the end of the last segment.
public struct TornTail: Sendable, Equatable {
    /// The segment file (name inside the log directory).
    public var file: String
    /// The byte offset the file was cut at (the end of the last intact frame).
    public var offset: Int64
    /// How many bytes after `offset` were not zero and were dropped.
    public var bytesDropped: Int64

    /// A torn-tail description.
    public init(file: String, offset: Int64, bytesDropped: Int64) {
        self.file = file
        self.offset = offset
        self.bytesDropped = bytesDropped
    }
}

/// What opening found and did.
public struct RecoveryReport: Sendable, Equatable {
    /// How many segment files the log has after opening.
    public var segments: Int
    /// The torn tail that was cut, if there was one.
    public var tornTail: TornTail?

    /// A report.
    public init(segments: Int, tornTail: TornTail?) {
        self.segments = segments
        self.tornTail = tornTail
    }
}
