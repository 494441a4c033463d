#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One segment as `LogInspector.verify` found it.
public struct SegmentInfo: Sendable, Equatable {
    /// File name inside the log directory.
    public var file: String
    /// Index of the segment's first frame (from its name and header).
    public var baseIndex: UInt64
    /// Index of the first valid frame (the base index).
    public var firstIndex: UInt64
    /// Index of the last valid frame (`firstIndex - 1` when the segment has none).
    public var lastIndex: UInt64
    /// File size in bytes.
    public var bytes: Int64
    /// Whether it ends with a valid footer.
    public var sealed: Bool
}

/// What `LogInspector.verify` found.
public struct VerifyReport: Sendable, Equatable {
    /// First readable index (the first-index file or the first segment's base).
    public var firstIndex: UInt64
    /// Last index of valid data, up to the first problem.
    public var lastIndex: UInt64
    /// Every segment file, in order.
    public var segments: [SegmentInfo]
    /// Offset of a torn tail in the last segment (what opening would cut), if any; not a problem.
    public var tornTailOffset: Int64?
    /// The file of the torn tail.
    public var tornTailFile: String?
    /// Every corruption found (`.corruption` cases naming file, offset and index), in file order.
    public var problems: [LogError]
    /// Spare files kept for recycling (`spare-*.tmp`, see `LogOptions.recycleSegments`), by name, in id
    /// order: not part of the log (never read for entries); the next open keeps or deletes them.
    public var spareFiles: [String] = []
    /// Their total size in bytes.
    public var spareBytes: Int64 = 0
}

/// What `LogInspector.repair` did.
public struct RepairReport: Sendable, Equatable {
    /// Whether anything was cut.
    public var changed: Bool
    /// The first index no longer in the log (nil if no entry was dropped, e.g. only a damaged footer
    /// was removed).
    public var droppedFirstIndex: UInt64?
    /// The last index the cut-off part held (nil if no entry was dropped).
    public var droppedLastIndex: UInt64?
    /// Bytes removed from the log directory (copied to `backupDirectory` first).
    public var droppedBytes: Int64
    /// Segment files that were cut or deleted.
    public var files: [String]
    /// Where the cut bytes were copied (`<directory>/repair-<unix time>`), nil if nothing was cut.
    public var backupDirectory: String?
    /// The corruption that the log was cut at.
    public var cutAt: LogError?
}

/// Offline checks and repair (used by `metactl log verify|repair`), without opening the log for writes.
public enum LogInspector {
    /// Checks every header, frame and footer of every segment plus the first-index and hard-state files;
    /// never modifies anything. Holds the directory lock shared while it reads, so a `Log` cannot trim
    /// the files underneath it (which would give false corruption reports or a SIGBUS from the mapping):
    /// throws `.locked` while a `Log` has the directory open. Throws `.io` if the directory cannot be
    /// read. Cost: reads every byte of the log once.
    public static func verify(directory: String) throws -> VerifyReport {
        let lock = try sharedLock(directory)
        defer { unlock(lock) }
        return try Inspection.run(PosixFileSystem(), directory: directory).report
    }

    /// Takes the directory lock shared, non-blocking (nil when the log never had a lock file: no writer
    /// ever opened it). Throws `.locked` while a `Log` (which holds it exclusively) has it open.
    static func sharedLock(_ directory: String) throws(LogError) -> Int32? {
        let fd = Glibc.open(directory + "/LOCK", O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        if flock(fd, LOCK_SH | LOCK_NB) != 0 {
            Glibc.close(fd)
            throw LogError.locked(directory: directory)
        }
        return fd
    }

    static func unlock(_ fd: Int32?) {
        if let fd { Glibc.close(fd) }
    }

    /// Repairs the log: a segment whose frames are all intact but whose footer is damaged gets its footer
    /// written again (nothing dropped); at the first other corruption the log is cut: the damaged
    /// segment is cut at the end of its last valid frame (deleted if its header is damaged) and every
    /// later segment is deleted. The removed bytes are
    /// first copied to `directory/repair-<unix time>/`. Takes the directory lock (throws `.locked` if
    /// the log is open). A log without corruption is left untouched (`changed == false`).
    public static func repair(directory: String) throws -> RepairReport {
        try Repair.run(PosixFileSystem(), directory: directory)
    }
}
