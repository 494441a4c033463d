import Histogram

/// Latency of each append call in nanoseconds (HdrHistogram, 3 significant digits, 1 ns .. 1 h), reported
/// as p50 / p99 / p99.9 / max in microseconds. Recording is allocation-free.
struct LatencyRecorder {
    fileprivate var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three)

    /// Records one call that took `nanos` nanoseconds.
    @inline(__always)
    mutating func record(nanos: UInt64) {
        _ = histogram.record(max(1, nanos))
    }

    var count: UInt64 { histogram.totalCount }

    /// `p50_us`, `p99_us`, `p999_us`, `max_us` for the result's extra figures (empty if nothing recorded).
    var extras: [(name: String, value: Double)] {
        guard histogram.totalCount > 0 else { return [] }
        func us(_ v: UInt64) -> Double { (Double(v) / 1000 * 10).rounded() / 10 }
        return [
            ("p50_us", us(histogram.valueAtPercentile(50))),
            ("p99_us", us(histogram.valueAtPercentile(99))),
            ("p999_us", us(histogram.valueAtPercentile(99.9))),
            ("max_us", us(histogram.max)),
        ]
    }
}

extension LatencyRecorder {
    /// Adds every value `other` recorded.
    mutating func merge(_ other: LatencyRecorder) { histogram.add(other.histogram) }
}
