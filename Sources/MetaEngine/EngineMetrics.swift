// swift-metrics instruments of one engine. With no metrics backend bootstrapped they are swift-metrics'
// no-op handlers: an update is a call into an empty method.

import Metrics

/// The counters, timers and gauges one engine reports (labels `<prefix>_<name>`).
struct EngineMetrics: Sendable {
    let appendedEntries: Counter
    let appendedBytes: Counter
    let fsyncs: Counter
    let fsyncLatency: Metrics.Timer
    let applyLatency: Metrics.Timer
    let appliedEntries: Counter
    let commitIndex: Gauge
    let appliedIndex: Gauge
    let applyLag: Gauge
    let snapshotDuration: Metrics.Timer
    let snapshotPause: Metrics.Timer
    let snapshotBytes: Gauge
    let failures: Counter

    init(prefix: String) {
        appendedEntries = Counter(label: "\(prefix)_appended_entries_total")
        appendedBytes = Counter(label: "\(prefix)_appended_bytes_total")
        fsyncs = Counter(label: "\(prefix)_fsyncs_total")
        fsyncLatency = Metrics.Timer(label: "\(prefix)_fsync_seconds")
        applyLatency = Metrics.Timer(label: "\(prefix)_apply_batch_seconds")
        appliedEntries = Counter(label: "\(prefix)_applied_entries_total")
        commitIndex = Gauge(label: "\(prefix)_commit_index")
        appliedIndex = Gauge(label: "\(prefix)_applied_index")
        applyLag = Gauge(label: "\(prefix)_apply_lag_entries")
        snapshotDuration = Metrics.Timer(label: "\(prefix)_snapshot_seconds")
        snapshotPause = Metrics.Timer(label: "\(prefix)_snapshot_pause_seconds")
        snapshotBytes = Gauge(label: "\(prefix)_snapshot_bytes")
        failures = Counter(label: "\(prefix)_failures_total")
    }
}
