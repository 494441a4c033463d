// Go 1.19's sort.Sort (pattern-defeating quicksort), reproduced step for step so that elements that
// compare equal end up in exactly the order InfluxDB's binary leaves them. InfluxDB sorts a policy's shard
// groups with it after every creation; its result differs from a stable sort only for ties, and only when
// the list has 13 to 49 elements or was not sorted before (see `insertSorted`).

/// Sorts `a` with Go 1.19's `sort.Sort` algorithm and the strict order `less`.
func goSort<T>(_ a: inout [T], _ less: (T, T) -> Bool) {
    let n = a.count
    if n <= 1 { return }
    withoutActuallyEscaping(less) { less in
        a.withUnsafeMutableBufferPointer { buf in
            var s = GoPDQ(buf: buf, less: less)
            s.pdqsort(0, n, Int.bitWidth - n.leadingZeroBitCount)
        }
    }
}

private struct GoPDQ<T> {
    let buf: UnsafeMutableBufferPointer<T>
    let less: (T, T) -> Bool

    @inline(__always) func lt(_ i: Int, _ j: Int) -> Bool { less(buf[i], buf[j]) }
    @inline(__always) func swap(_ i: Int, _ j: Int) { buf.swapAt(i, j) }

    func insertionSort(_ a: Int, _ b: Int) {
        var i = a + 1
        while i < b {
            var j = i
            while j > a && lt(j, j - 1) {
                swap(j, j - 1)
                j -= 1
            }
            i += 1
        }
    }

    func siftDown(_ lo: Int, _ hi: Int, _ first: Int) {
        var root = lo
        while true {
            var child = 2 * root + 1
            if child >= hi { return }
            if child + 1 < hi && lt(first + child, first + child + 1) { child += 1 }
            if !lt(first + root, first + child) { return }
            swap(first + root, first + child)
            root = child
        }
    }

    func heapSort(_ a: Int, _ b: Int) {
        let first = a
        let hi = b - a
        var i = (hi - 1) / 2
        while i >= 0 {
            siftDown(i, hi, first)
            i -= 1
        }
        i = hi - 1
        while i >= 0 {
            swap(first, first + i)
            siftDown(0, i, first)
            i -= 1
        }
    }

    enum Hint { case unknown, increasing, decreasing }

    mutating func pdqsort(_ a0: Int, _ b0: Int, _ limit0: Int) {
        var a = a0
        var b = b0
        var limit = limit0
        var wasBalanced = true
        var wasPartitioned = true
        while true {
            let length = b - a
            if length <= 12 {
                insertionSort(a, b)
                return
            }
            if limit == 0 {
                heapSort(a, b)
                return
            }
            if !wasBalanced {
                breakPatterns(a, b)
                limit -= 1
            }
            var (pivot, hint) = choosePivot(a, b)
            if hint == .decreasing {
                reverseRange(a, b)
                pivot = (b - 1) - (pivot - a)
                hint = .increasing
            }
            if wasBalanced && wasPartitioned && hint == .increasing {
                if partialInsertionSort(a, b) { return }
            }
            if a > 0 && !lt(a - 1, pivot) {
                a = partitionEqual(a, b, pivot)
                continue
            }
            let (mid, already) = partition(a, b, pivot)
            wasPartitioned = already
            let leftLen = mid - a
            let rightLen = b - mid
            let threshold = length / 8
            if leftLen < rightLen {
                wasBalanced = leftLen >= threshold
                pdqsort(a, mid, limit)
                a = mid + 1
            } else {
                wasBalanced = rightLen >= threshold
                pdqsort(mid + 1, b, limit)
                b = mid
            }
        }
    }

    func partition(_ a: Int, _ b: Int, _ pivot: Int) -> (Int, Bool) {
        swap(a, pivot)
        var i = a + 1
        var j = b - 1
        while i <= j && lt(i, a) { i += 1 }
        while i <= j && !lt(j, a) { j -= 1 }
        if i > j {
            swap(j, a)
            return (j, true)
        }
        swap(i, j)
        i += 1
        j -= 1
        while true {
            while i <= j && lt(i, a) { i += 1 }
            while i <= j && !lt(j, a) { j -= 1 }
            if i > j { break }
            swap(i, j)
            i += 1
            j -= 1
        }
        swap(j, a)
        return (j, false)
    }

    func partitionEqual(_ a: Int, _ b: Int, _ pivot: Int) -> Int {
        swap(a, pivot)
        var i = a + 1
        var j = b - 1
        while true {
            while i <= j && !lt(a, i) { i += 1 }
            while i <= j && lt(a, j) { j -= 1 }
            if i > j { break }
            swap(i, j)
            i += 1
            j -= 1
        }
        return i
    }

    func partialInsertionSort(_ a: Int, _ b: Int) -> Bool {
        var i = a + 1
        for _ in 0..<5 {
            while i < b && !lt(i, i - 1) { i += 1 }
            if i == b { return true }
            if b - a < 50 { return false }
            swap(i, i - 1)
            if i - a >= 2 {
                var j = i - 1
                while j >= 1 {  // Go's loop bound is 1, not a + 1
                    if !lt(j, j - 1) { break }
                    swap(j, j - 1)
                    j -= 1
                }
            }
            if b - i >= 2 {
                var j = i + 1
                while j < b {
                    if !lt(j, j - 1) { break }
                    swap(j, j - 1)
                    j += 1
                }
            }
        }
        return false
    }

    func breakPatterns(_ a: Int, _ b: Int) {
        let length = b - a
        if length >= 8 {
            var random = UInt64(length)
            let modulus = UInt(1) << UInt(Int.bitWidth - length.leadingZeroBitCount)
            var idx = a + (length / 4) * 2 - 1
            while idx <= a + (length / 4) * 2 + 1 {
                random ^= random << 13
                random ^= random >> 17
                random ^= random << 5
                var other = Int(UInt(truncatingIfNeeded: random) & (modulus - 1))
                if other >= length { other -= length }
                swap(idx, a + other)
                idx += 1
            }
        }
    }

    func choosePivot(_ a: Int, _ b: Int) -> (Int, Hint) {
        let l = b - a
        var swaps = 0
        var i = a + l / 4 * 1
        var j = a + l / 4 * 2
        var k = a + l / 4 * 3
        if l >= 8 {
            if l >= 50 {
                i = medianAdjacent(i, &swaps)
                j = medianAdjacent(j, &swaps)
                k = medianAdjacent(k, &swaps)
            }
            j = median(i, j, k, &swaps)
        }
        switch swaps {
        case 0: return (j, .increasing)
        case 12: return (j, .decreasing)
        default: return (j, .unknown)
        }
    }

    func order2(_ a: Int, _ b: Int, _ swaps: inout Int) -> (Int, Int) {
        if lt(b, a) {
            swaps += 1
            return (b, a)
        }
        return (a, b)
    }

    func median(_ a0: Int, _ b0: Int, _ c0: Int, _ swaps: inout Int) -> Int {
        var (a, b) = order2(a0, b0, &swaps)
        var c = c0
        (b, c) = order2(b, c, &swaps)
        (a, b) = order2(a, b, &swaps)
        _ = a
        _ = c
        return b
    }

    func medianAdjacent(_ a: Int, _ swaps: inout Int) -> Int { median(a - 1, a, a + 1, &swaps) }

    func reverseRange(_ a: Int, _ b: Int) {
        var i = a
        var j = b - 1
        while i < j {
            swap(i, j)
            i += 1
            j -= 1
        }
    }
}
