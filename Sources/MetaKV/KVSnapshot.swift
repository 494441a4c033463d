// Streaming snapshot of the key-value state (layout: docs/FORMAT.md, "MetaKV snapshot"). Written through a
// 64 KiB buffer, never as one whole-state array; restored into a fresh store that replaces the current one
// only when the whole stream was valid.

import MetaFSM
import MetaSnapshot

extension KVStateMachine {
    static let snapshotMagic: [UInt8] = Array("MKV1".utf8)
    static let snapshotEnd: [UInt8] = Array("MKVE".utf8)

    /// Writes the whole state (applied index/term, revision, compaction point, every key with its history,
    /// leases) to `sink` in 64 KiB writes. Throws what the sink throws. O(state), memory O(64 KiB + largest
    /// value).
    public func writeSnapshot(to sink: inout some SnapshotSink) throws {
        var w = SnapshotBuffer()
        w.bytes += Self.snapshotMagic
        w.varint(appliedIndex); w.varint(appliedTerm)
        w.int(store.revision); w.int(store.compactRevision); w.int(lastTime)
        w.varint(UInt64(store.table.count)); w.varint(UInt64(store.leases.count))
        var scratch: [Int] = []
        for chunk in store.table.chunks {
            for r in chunk {
                w.blob(r.key)
                let vs = store.slab[r.slot]
                w.varint(UInt64(store.history.length(vs.history) + 1))
                store.history.forEachOldestFirst(vs.history, scratch: &scratch) { w.version($0) }
                w.version(vs.latest)
                if w.bytes.count >= SnapshotBuffer.flushAt { try w.flush(&sink) }
            }
        }
        for l in store.leases.values.sorted(by: { $0.id < $1.id }) {
            w.int(l.id); w.int(l.ttl); w.int(l.grantedAt)
        }
        w.bytes += Self.snapshotEnd
        try w.flush(&sink)
    }

    /// Replaces the state with the snapshot in `source` (options are kept). Throws
    /// ``MetaFSMError/snapshot(reason:)`` naming the byte offset of the first invalid byte; the state is
    /// then unchanged. O(state).
    public mutating func restoreSnapshot(from source: inout some SnapshotSource) throws {
        var r = SnapshotStreamReader(source: source)
        guard try r.take(4) == Self.snapshotMagic else { throw r.fail("not a MetaKV snapshot (magic MKV1 expected)", at: 0) }
        let index = try r.varint(), term = try r.varint()
        var s = KVStore()
        s.revision = try r.int(); s.compactRevision = try r.int()
        let time = try r.int()
        let records = try r.varint(), leaseCount = try r.varint()
        var previous: [UInt8]? = nil
        var live: [(key: [UInt8], lease: Int64)] = []
        for _ in 0..<records {
            let at = r.offset
            let key = try r.blob()
            guard !key.isEmpty else { throw r.fail("empty key", at: at) }
            if let p = previous, compareBytes(p, key) >= 0 { throw r.fail("keys out of order", at: at) }
            previous = key
            let n = try r.varint()
            guard n >= 1, n <= UInt64(Int32.max) else { throw r.fail("key has \(n) versions", at: r.offset) }
            var head = 0
            for _ in 1..<n { head = s.history.push(try r.version(), prev: head) }
            let latest = try r.version()
            let slot = s.slab.allocate(KeyVersions(key: key, latest: latest, history: head))
            s.index.insert(key, slot, s.slab, value: latest.value)
            s.table.insert(KeyRecord(key: key, slot: slot), at: s.table.end)
            if !latest.isTombstone {
                s.liveKeyCount += 1
                if latest.lease != 0 { live.append((key, latest.lease)) }
            }
        }
        for _ in 0..<leaseCount {
            let at = r.offset
            let id = try r.int(), ttl = try r.int(), granted = try r.int()
            guard id != 0, s.leases[id] == nil else { throw r.fail("lease id \(id) is 0 or repeated", at: at) }
            s.leases[id] = KVLease(id: id, ttl: ttl, grantedAt: granted, keys: [])
        }
        for (key, lease) in live {
            guard s.leases[lease] != nil else {
                throw r.fail("key attached to lease \(lease), which the snapshot does not hold", at: r.offset)
            }
            s.leases[lease]?.keys.insert(key)
        }
        guard try r.take(4) == Self.snapshotEnd else { throw r.fail("end marker MKVE expected", at: r.offset - 4) }
        guard try r.atEnd() else { throw r.fail("bytes after the end marker", at: r.offset) }
        source = r.source
        store = s
        appliedIndex = index
        appliedTerm = term
        lastTime = time
    }
}

/// The write side: varints into a buffer flushed at 64 KiB.
struct SnapshotBuffer {
    static let flushAt = 64 * 1024
    var bytes: [UInt8] = []
    init() { bytes.reserveCapacity(Self.flushAt + 1024) }
    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func int(_ v: Int64) { varint(UInt64(bitPattern: v)) }
    mutating func blob(_ b: [UInt8]) { varint(UInt64(b.count)); bytes += b }
    mutating func version(_ v: KVVersion) {
        int(v.modRevision); int(v.createRevision); int(v.version); int(v.lease); blob(v.value)
    }
    mutating func flush(_ sink: inout some SnapshotSink) throws {
        try bytes.withUnsafeBytes { try sink.write($0) }
        bytes.removeAll(keepingCapacity: true)
    }
}

/// The read side: a buffered cursor over a SnapshotSource that counts the absolute offset.
struct SnapshotStreamReader<Source: SnapshotSource> {
    var source: Source
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    var start = 0, end = 0
    /// Absolute offset of the next byte.
    var offset = 0

    init(source: Source) { self.source = source }

    func fail(_ reason: String, at: Int) -> MetaFSMError { .snapshot(reason: "MetaKV snapshot byte \(at): \(reason)") }

    mutating func fill() throws -> Bool {
        if start < end { return true }
        let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        start = 0; end = n
        return n > 0
    }

    mutating func byte() throws -> UInt8 {
        guard try fill() else { throw fail("stream ends early", at: offset) }
        let b = buffer[start]; start += 1; offset += 1
        return b
    }

    mutating func atEnd() throws -> Bool { !(try fill()) }

    mutating func take(_ n: Int) throws -> [UInt8] {
        let at = offset
        var out: [UInt8] = []
        out.reserveCapacity(min(n, 1 << 20))
        while out.count < n {
            guard try fill() else { throw fail("stream ends inside a \(n)-byte field", at: at) }
            let k = min(n - out.count, end - start)
            out += buffer[start..<(start + k)]
            start += k; offset += k
        }
        return out
    }

    mutating func varint() throws -> UInt64 {
        let at = offset
        var result: UInt64 = 0, shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift >= 70 { throw fail("varint longer than 10 bytes", at: at) }
        }
    }

    mutating func int() throws -> Int64 { Int64(bitPattern: try varint()) }

    mutating func blob() throws -> [UInt8] {
        let at = offset
        let n = try varint()
        guard n <= 1 << 31 else { throw fail("length \(n) is implausible", at: at) }
        return try take(Int(n))
    }

    mutating func version() throws -> KVVersion {
        let mod = try int(), create = try int(), version = try int(), lease = try int()
        return KVVersion(modRevision: mod, createRevision: create, version: version, lease: lease, value: try blob())
    }
}
