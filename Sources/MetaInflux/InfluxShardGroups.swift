// Shard group time arithmetic and ordering, as InfluxDB 1.6.7 does it (spec 4.8):
//   start = t truncated to a multiple of D counted from 0001-01-01T00:00:00Z (Go's Time.Truncate),
//   end   = start + D, capped to MaxNanoTime + 1,
//   groups sorted ascending by (effective end, start) after each creation.

/// Go's `models.MaxNanoTime`: the largest timestamp InfluxDB accepts.
public let influxMaxNanoTime: Int64 = Int64.max - 1

/// Nanoseconds from 0001-01-01T00:00:00Z to the Unix epoch (719162 days).
let nanosFromYearOneToEpoch = Int128(62_135_596_800) * 1_000_000_000

/// The [start, end) range InfluxDB gives a new shard group for timestamp `t` and group duration `d` (ns).
public func influxShardGroupRange(timestamp t: Int64, duration d: Int64) -> (start: Int64, end: Int64) {
    var start = Int128(t)
    if d > 0 {
        let dd = Int128(d)
        var r = (start + nanosFromYearOneToEpoch) % dd
        if r < 0 { r += dd }
        start -= r
    }
    var end = start + Int128(d)
    if end > Int128(influxMaxNanoTime) { end = Int128(influxMaxNanoTime) + 1 }
    return (Int64(truncatingIfNeeded: start), Int64(truncatingIfNeeded: end))
}

/// Strict "sorts before" of InfluxDB's `ShardGroupInfos.Less`.
func groupLess(_ a: ShardGroupInfo, _ b: ShardGroupInfo) -> Bool {
    let ae = a.effectiveEnd
    let be = b.effectiveEnd
    return ae == be ? a.startTime < b.startTime : ae < be
}

/// What the apply code knows about a policy's group list: whether it is sorted (it always is after a
/// creation; a SetData or a file may bring an unsorted one) and the widest (effective end - start), which
/// bounds how far past `t` a group that covers `t` can end. Derived data: `==` ignores it.
struct ShardGroupOrder: Equatable, Sendable {
    var known = false
    var sorted = false
    var maxSpan: UInt64 = 0
    /// Adjacent pairs that tie on (effective end, start) (meaningful when sorted).
    var ties = 0

    static func == (_: ShardGroupOrder, _: ShardGroupOrder) -> Bool { true }

    mutating func invalidate() { known = false }

    static func span(_ g: ShardGroupInfo) -> UInt64 {
        let e = g.effectiveEnd
        return e > g.startTime ? UInt64(bitPattern: e &- g.startTime) : 0
    }

    /// First index accepting `t`: binary search plus a bounded scan when `sorted`, else a linear scan.
    static func search(_ groups: [ShardGroupInfo], _ t: Int64, sorted: Bool, maxSpan: UInt64) -> Int? {
        groups.withUnsafeBufferPointer { gs -> Int? in
            if !sorted {
                return gs.firstIndex { $0.accepts(t) }
            }
            var lo = 0
            var hi = gs.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if gs[mid].effectiveEnd <= t { lo = mid + 1 } else { hi = mid }
            }
            var i = lo
            while i < gs.count {
                if UInt64(bitPattern: gs[i].effectiveEnd &- t) > maxSpan { break }
                if gs[i].accepts(t) { return i }
                i += 1
            }
            return nil
        }
    }

    mutating func ensure(_ groups: [ShardGroupInfo]) {
        if known { return }
        sorted = true
        maxSpan = 0
        ties = 0
        for i in groups.indices {
            if i > 0 && groupLess(groups[i], groups[i - 1]) { sorted = false }
            if i > 0 && !groupLess(groups[i - 1], groups[i]) && !groupLess(groups[i], groups[i - 1]) { ties += 1 }
            maxSpan = max(maxSpan, ShardGroupOrder.span(groups[i]))
        }
        known = true
    }
}

extension RetentionPolicyInfo {
    /// Index of the first group (in list order among candidates) that accepts `t`, or nil. On a sorted
    /// list this looks only at groups whose effective end lies in (t, t + maxSpan]: O(log n + hits).
    mutating func groupAccepting(_ t: Int64) -> Int? {
        order.ensure(groups)
        return ShardGroupOrder.search(groups, t, sorted: order.sorted, maxSpan: order.maxSpan)
    }

    /// The group InfluxDB's `ShardGroupByTimestamp` returns for `t` (the one new writes at `t` go to), or
    /// nil. O(log n) once the policy has been written to; O(n) on a list loaded and never searched.
    public func shardGroup(containing t: Int64) -> ShardGroupInfo? {
        let i = order.known
            ? ShardGroupOrder.search(groups, t, sorted: order.sorted, maxSpan: order.maxSpan)
            : groups.firstIndex { $0.accepts(t) }
        return i.map { groups[$0] }
    }

    /// Appends `g` and restores InfluxDB's order exactly as Go 1.19's `sort.Sort` leaves it.
    ///
    /// On a list that was sorted, Go's result equals inserting `g` after every group that does not sort
    /// after it when the list then has at most 12 groups (insertion sort), at least 50 (pdqsort's partial
    /// insertion sort finishes it), or no two groups tie; that is the O(log n) path. Otherwise (13-49
    /// groups with ties, or an unsorted list from SetData or a file) the list is sorted with `goSort`.
    mutating func insertSorted(_ g: ShardGroupInfo) {
        order.ensure(groups)
        let n = groups.count + 1
        if order.sorted {
            var lo = 0
            var hi = groups.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if groupLess(g, groups[mid]) { hi = mid } else { lo = mid + 1 }
            }
            let tiesLeft = lo > 0 && !groupLess(groups[lo - 1], g)
            let tiesRight = lo < groups.count && !groupLess(g, groups[lo])
            let newTie = tiesLeft || tiesRight
            if n <= 12 || n >= 50 || lo == groups.count || (order.ties == 0 && !newTie) {
                groups.insert(g, at: lo)
                order.maxSpan = max(order.maxSpan, ShardGroupOrder.span(g))
                if newTie { order.ties += 1 }
                return
            }
        }
        groups.append(g)
        goSort(&groups, groupLess)
        order.invalidate()
        order.ensure(groups)
    }

    /// Groups that are not deleted and overlap [min, max] (InfluxDB's `ShardGroupsByTimeRange`:
    /// start <= max and end > min), in stored order. No copy of the policy is made.
    public func shardGroups(overlappingFrom min: Int64, to max: Int64) -> [ShardGroupInfo] {
        groups.filter { !$0.isDeleted && $0.startTime <= max && $0.endTime > min }
    }
}
