import Foundation
import Metrics

/// A swift-metrics backend for one engine under measurement: per label, how many values were recorded,
/// their sum and the last one. The engine reports per group commit and per apply batch (not per entry),
/// so one lock per update costs nothing measurable.
final class BenchMetrics: MetricsFactory, @unchecked Sendable {
    /// What one instrument received.
    final class Cell: CounterHandler, RecorderHandler, TimerHandler, @unchecked Sendable {
        private let lock = NSLock()
        private var n: Int64 = 0
        private var total: Double = 0

        /// Number of values recorded (increments for a counter).
        var count: Int64 { lock.withLock { n } }
        /// Sum of the values (a counter's total, a timer's nanoseconds).
        var sum: Double { lock.withLock { total } }

        private func add(_ v: Double) { lock.withLock { n += 1; total += v } }
        func increment(by amount: Int64) { add(Double(amount)) }
        func reset() { lock.withLock { n = 0; total = 0 } }
        func record(_ value: Int64) { add(Double(value)) }
        func record(_ value: Double) { add(value) }
        func recordNanoseconds(_ duration: Int64) { add(Double(duration)) }
    }

    private let lock = NSLock()
    private var cells: [String: Cell] = [:]

    /// The instrument named `label` (an empty one if the engine never made it).
    func cell(_ label: String) -> Cell {
        lock.withLock {
            if let c = cells[label] { return c }
            let c = Cell()
            cells[label] = c
            return c
        }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler { cell(label) }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler { cell(label) }
    func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler { cell(label) }
    func destroyCounter(_ handler: CounterHandler) {}
    func destroyRecorder(_ handler: RecorderHandler) {}
    func destroyTimer(_ handler: TimerHandler) {}

    /// Where a closed-loop proposal workload's time went, from the engine's own instruments (labels with
    /// the default prefix): group commits, entries per group, mean fdatasync and apply batch, and the
    /// rest of a group's cycle (`handoff_us`: waking the apply loop, resuming the callers, their next
    /// proposals reaching the writer, the write itself).
    func engineBreakdown(seconds: Double) -> [(String, Double)] {
        let syncs = cell("metaengine_fsync_seconds")
        let applies = cell("metaengine_apply_batch_seconds")
        let entries = cell("metaengine_appended_entries_total").sum
        let groups = Double(max(syncs.count, 1))
        let syncUs = syncs.sum / groups / 1000
        let applyUs = applies.count > 0 ? applies.sum / Double(applies.count) / 1000 : 0
        let cycleUs = seconds * 1e6 / groups
        func r(_ v: Double) -> Double { (v * 10).rounded() / 10 }
        return [("group_commits", Double(syncs.count)), ("entries_per_group", r(entries / groups)),
                ("group_cycle_us", r(cycleUs)), ("engine_fsync_us", r(syncUs)), ("apply_batch_us", r(applyUs)),
                ("handoff_us", r(cycleUs - syncUs - applyUs))]
    }
}
