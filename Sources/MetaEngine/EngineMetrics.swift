// swift-metrics instruments of one engine, made by `EngineOptions.metricsFactory` or, without one, by the
// process-wide factory. With no metrics backend bootstrapped they are swift-metrics' no-op handlers: an
// update is a call into an empty method.

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

    /// The instruments labelled `<prefix>_<name>`, made by `factory` (nil: the process-wide one).
    init(prefix: String, factory: (any MetricsFactory)?) {
        let f = factory ?? MetricsSystem.factory
        appendedEntries = Counter(label: "\(prefix)_appended_entries_total", factory: f)
        appendedBytes = Counter(label: "\(prefix)_appended_bytes_total", factory: f)
        fsyncs = Counter(label: "\(prefix)_fsyncs_total", factory: f)
        fsyncLatency = Metrics.Timer(label: "\(prefix)_fsync_seconds", factory: f)
        applyLatency = Metrics.Timer(label: "\(prefix)_apply_batch_seconds", factory: f)
        appliedEntries = Counter(label: "\(prefix)_applied_entries_total", factory: f)
        commitIndex = Gauge(label: "\(prefix)_commit_index", factory: f)
        appliedIndex = Gauge(label: "\(prefix)_applied_index", factory: f)
        applyLag = Gauge(label: "\(prefix)_apply_lag_entries", factory: f)
        snapshotDuration = Metrics.Timer(label: "\(prefix)_snapshot_seconds", factory: f)
        snapshotPause = Metrics.Timer(label: "\(prefix)_snapshot_pause_seconds", factory: f)
        snapshotBytes = Gauge(label: "\(prefix)_snapshot_bytes", factory: f)
        failures = Counter(label: "\(prefix)_failures_total", factory: f)
    }
}
