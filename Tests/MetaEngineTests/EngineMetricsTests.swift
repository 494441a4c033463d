import MetaEngine
import MetaLog
import Metrics
import MetricsTestKit
import XCTest

/// Fails every fdatasync once `failing` is set (the engine's writer then fails the engine).
final class FailingSyncFileSystem: ForwardingFileSystem, @unchecked Sendable {
    let base: any FileSystem = PosixFileSystem()
    private let lock = NSLock()
    private var on = false
    var failing: Bool {
        get { lock.withLock { on } }
        set { lock.withLock { on = newValue } }
    }

    func fdatasync(_ fd: Int32, path: String) throws(FileSystemError) {
        if failing { throw FileSystemError(operation: "fdatasync", path: path, errno: EIO) }
        try base.fdatasync(fd, path: path)
    }
}

/// The swift-metrics instruments an engine reports, through a factory of its own (no global bootstrap).
final class EngineMetricsTests: XCTestCase {
    private func options(_ metrics: TestMetrics, prefix: String) -> EngineOptions {
        var o = quietOptions()
        o.commitOnDurable = true
        o.metricsFactory = metrics
        o.metricsPrefix = prefix
        return o
    }

    /// Two appends of 5 and 7 counter commands (16 bytes each) and one snapshot: every counter, timer and
    /// gauge holds exactly what happened, and a second engine's factory sees none of it.
    func testEachEngineReportsItsAppendsSyncsAppliesAndSnapshotsToItsOwnFactory() throws {
        let dir = makeTemporaryDirectory(self)
        let metrics = TestMetrics()
        let other = TestMetrics()
        let engine = try MetaEngine(directory: dir + "/a", stateMachine: CounterMachine(), options: options(metrics, prefix: "a"))
        let second = try MetaEngine(directory: dir + "/b", stateMachine: CounterMachine(), options: options(other, prefix: "a"))
        XCTAssertEqual(try engine.proposeSync(counterBatch(1...5, term: 1)), 1...5)
        XCTAssertEqual(try engine.proposeSync(counterBatch(6...12, term: 1)), 6...12)
        try waitApplied(engine, 12)
        let id = try engine.snapshotSync()
        XCTAssertEqual(id.index, 12)

        XCTAssertEqual(try metrics.expectCounter("a_appended_entries_total").totalValue, 12)
        XCTAssertEqual(try metrics.expectCounter("a_appended_bytes_total").totalValue, 12 * 16)
        // Each proposeSync returns after its own sync: two groups, two fdatasyncs, each timed.
        XCTAssertEqual(try metrics.expectCounter("a_fsyncs_total").totalValue, 2)
        let syncs = try metrics.expectTimer("a_fsync_seconds").values
        XCTAssertEqual(syncs.count, 2)
        XCTAssertTrue(syncs.allSatisfy { $0 > 0 }, "\(syncs)")
        XCTAssertEqual(try metrics.expectCounter("a_applied_entries_total").totalValue, 12)
        let batches = try metrics.expectTimer("a_apply_batch_seconds").values.count
        XCTAssertTrue((1...12).contains(batches), "\(batches) apply batches")
        XCTAssertEqual(try metrics.expectGauge("a_commit_index").lastValue, 12)
        XCTAssertEqual(try metrics.expectGauge("a_applied_index").lastValue, 12)
        XCTAssertEqual(try metrics.expectGauge("a_apply_lag_entries").lastValue, 0)
        XCTAssertEqual(try metrics.expectTimer("a_snapshot_seconds").values.count, 1)
        XCTAssertEqual(try metrics.expectTimer("a_snapshot_pause_seconds").values.count, 1)
        let snapshotBytes = try XCTUnwrap(try metrics.expectGauge("a_snapshot_bytes").lastValue)
        XCTAssertEqual(try metrics.expectCounter("a_failures_total").totalValue, 0)

        // The second engine, same labels, its own factory: only its opening values.
        XCTAssertEqual(try other.expectCounter("a_appended_entries_total").totalValue, 0)
        XCTAssertEqual(try other.expectCounter("a_fsyncs_total").totalValue, 0)
        XCTAssertEqual(try other.expectGauge("a_applied_index").lastValue, 0)
        try second.close()
        try engine.close()

        // The gauge is the size of the file that recovery then reads.
        let reopened = try MetaEngine(directory: dir + "/a", stateMachine: CounterMachine(), options: quietOptions())
        XCTAssertEqual(reopened.recovery.snapshot?.index, 12)
        XCTAssertEqual(snapshotBytes, Double(reopened.recovery.snapshotBytes))
        try reopened.close()
    }

    /// A failed fdatasync stops the engine and counts one failure; the proposal that needed it throws.
    func testAFailedSyncCountsOneFailure() throws {
        let dir = makeTemporaryDirectory(self)
        let metrics = TestMetrics()
        var o = options(metrics, prefix: "f")
        let fs = FailingSyncFileSystem()
        o.fileSystem = fs
        let engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: o)
        XCTAssertEqual(try engine.proposeSync(counterBatch(1...3, term: 1)), 1...3)
        fs.failing = true
        XCTAssertThrowsError(try engine.proposeSync(counterBatch(4...4, term: 1)))
        XCTAssertEqual(try metrics.expectCounter("f_failures_total").totalValue, 1)
        XCTAssertEqual(try metrics.expectCounter("f_fsyncs_total").totalValue, 1)
        XCTAssertEqual(try metrics.expectCounter("f_appended_entries_total").totalValue, 3)
        engine.simulateCrash()
    }
}
