// How an engine is opened: snapshot policy, compaction window, apply batching, logging and metrics.

import Logging
import MetaLog
import Metrics
import MetaSnapshot

/// How a `MetaEngine` is opened. Every field has a default fit for a metadata service.
public struct EngineOptions: Sendable {
    /// Take an automatic snapshot once this many entries were applied since the last one (0: never by count).
    public var snapshotEveryEntries: UInt64 = 100_000
    /// Take an automatic snapshot once this many payload bytes were applied since the last one (0: never by size).
    public var snapshotEveryBytes: UInt64 = 256 << 20
    /// Entries kept in the log behind the newest snapshot, for followers that lag a little (they can then be
    /// sent entries instead of a whole snapshot).
    public var trailingEntries: UInt64 = 10_000
    /// How many published snapshots to keep (at least 1; 2 lets opening fall back when the newest is damaged).
    public var retainSnapshots: Int = 2
    /// At most this many entries are applied under one hold of the state lock (readers wait at most one batch).
    public var applyBatchEntries: Int = 1024
    /// With `commitOnDurable`, a group of at most this many newly committed entries is applied by the
    /// writer thread itself right after its fdatasync, when no append is queued and the apply thread is
    /// idle: the proposers' results are then ready without a wake-up of the apply thread (one thread hop
    /// less per group). Larger groups, groups with appends waiting behind them, and everything while the
    /// apply thread is busy go to the apply thread, so an append waits behind at most one such small batch.
    /// 0 turns it off (every entry is applied by the apply thread).
    public var inlineApplyEntries: Int = 64
    /// How many recent apply results are kept for `applied(_:)` callers that ask after the entry was applied.
    public var resultWindow: Int = 65_536
    /// Segment size of the log (see `LogOptions.segmentBytes`).
    public var segmentBytes: Int = 64 << 20
    /// Snapshot writer options (chunk size, compression).
    public var snapshotWriter: SnapshotWriterOptions = SnapshotWriterOptions()
    /// Where recovery, snapshot and failure events go (a no-op unless the host bootstrapped swift-log).
    public var logger: Logger = Logger(label: "metaengine", factory: { _ in SwiftLogNoOpLogHandler() })
    /// Prefix of every swift-metrics label (e.g. "metaengine_applied_index").
    public var metricsPrefix: String = "metaengine"
    /// Where this engine's counters, timers and gauges go: nil (the default) means the process-wide
    /// `MetricsSystem.factory` (a no-op until the host bootstraps swift-metrics). Set it to give one engine
    /// its own backend without a global bootstrap (several engines in one process, tests, Bench).
    public var metricsFactory: (any MetricsFactory)? = nil
    /// When true, each appended batch counts as committed as soon as it is durable (a single-node host, or
    /// a primary whose writes need no quorum). Otherwise the host calls `commit(to:)`.
    public var commitOnDurable: Bool = false
    /// The file-system seam of the engine's directory and its log (tests record or fail calls through it).
    package var fileSystem: any FileSystem = PosixFileSystem()
    /// Test seam: given a thread's role ("writer", "apply", "snapshot"), an errno makes starting it fail as
    /// pthread_create would under a thread limit; nil starts it.
    package var refuseThread: @Sendable (String) -> Int32? = { _ in nil }

    /// Default options.
    public init() {}
}
