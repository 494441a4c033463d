import Glibc

/// Monotonic time for the timed regions: `clock_gettime(CLOCK_MONOTONIC)`, no allocation.
enum BenchClock {
    /// Nanoseconds since an arbitrary fixed point.
    @inline(__always)
    static func nanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Seconds elapsed since `start` (a value of `nanos()`).
    static func seconds(since start: UInt64) -> Double {
        Double(nanos() &- start) / 1e9
    }
}

/// Progress on stderr while a workload runs: a rewritten line on a terminal, otherwise nothing but the
/// start line (so logs stay short). Checks the clock at most once per `tick` call and redraws every 0.25 s.
struct Progress {
    let label: String
    let total: Int
    let enabled: Bool
    private let interactive: Bool
    private var lastDraw: UInt64 = 0

    init(label: String, total: Int, enabled: Bool) {
        self.label = label
        self.total = total
        self.enabled = enabled
        self.interactive = enabled && isatty(2) != 0
        if enabled && !interactive { Progress.write("  running \(label) (\(total) operations)\n") }
    }

    /// Reports that `done` of `total` operations are finished.
    mutating func tick(_ done: Int) {
        guard interactive else { return }
        let now = BenchClock.nanos()
        if now &- lastDraw < 250_000_000 { return }
        lastDraw = now
        let percent = total > 0 ? done * 100 / total : 100
        Progress.write("\r  \(label): \(percent)% (\(done)/\(total))   ")
    }

    /// Clears the progress line.
    func finish() {
        if interactive { Progress.write("\r\u{1B}[K") }
    }

    static func write(_ text: String) {
        Output.write(text, to: 2)
    }
}

/// Unbuffered output: every line goes out with one write(2), so results appear as soon as they exist
/// and stdout/stderr never interleave inside a line.
enum Output {
    /// Writes `text` and a newline to stdout.
    static func line(_ text: String) {
        write(text + "\n", to: 1)
    }

    static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
