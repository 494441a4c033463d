// me_influx_*: MetaFSM's InfluxDB meta store behind a handle; snapshots go through MetaSnapshot's writer
// and reader handles (the body is exactly a meta.db).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMetaEngine
import MetaFSM
import MetaInflux
import MetaSnapshot

/// A me_influx handle: the machine and its lock.
final class InfluxBox {
    var machine: InfluxStateMachine
    let lock = HandleLock()
    init(_ machine: InfluxStateMachine) { self.machine = machine }
}

@inline(__always)
func influxBox(_ p: OpaquePointer?) throws(ABIError) -> InfluxBox { try box(p, InfluxBox.self, "influx handle") }

@_cdecl("me_influx_new")
public func me_influx_new(_ clock: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let out = try required(out, "out")
        out.pointee = nil
        let mode: InfluxClock
        switch clock {
        case Int32(ME_CLOCK_INDEX_SECONDS): mode = .conformance
        case Int32(ME_CLOCK_LEADER_STAMPED): mode = .leaderStamped
        default: throw ABIError.argument("clock \(clock) is not ME_CLOCK_INDEX_SECONDS or ME_CLOCK_LEADER_STAMPED")
        }
        out.pointee = handle(InfluxBox(InfluxStateMachine(clock: mode)))
    }
}

@_cdecl("me_influx_free")
public func me_influx_free(_ p: OpaquePointer?) {
    guard let p else { return }
    release(p, InfluxBox.self)
}

@_cdecl("me_influx_apply")
public func me_influx_apply(
    _ p: OpaquePointer?, _ index: UInt64, _ term: UInt64, _ payload: UnsafeRawPointer?, _ length: Int,
    _ rejected: UnsafeMutablePointer<Int32>?, _ msg: UnsafeMutablePointer<CChar>?, _ cap: Int, _ msgLength: UnsafeMutablePointer<Int>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let m = try influxBox(p)
        let rejected = try required(rejected, "rejected")
        guard length >= 0 else { throw ABIError.argument("len is negative") }
        if length > 0 { _ = try required(payload, "payload") }
        let result = m.lock.run { m.machine.apply(index: index, term: term, payload: UnsafeRawBufferPointer(start: payload, count: length)) }
        guard let result else {
            rejected.pointee = 0
            msgLength?.pointee = 0
            if let msg, cap > 0 { msg[0] = 0 }
            return
        }
        rejected.pointee = 1
        let text = result.description.utf8
        msgLength?.pointee = text.count
        if let msg, cap > 0 {
            var n = 0
            for byte in text where n < cap - 1 {
                msg[n] = CChar(bitPattern: byte)
                n += 1
            }
            msg[n] = 0
        }
    }
}

@_cdecl("me_influx_applied")
public func me_influx_applied(
    _ p: OpaquePointer?, _ index: UnsafeMutablePointer<UInt64>?, _ term: UnsafeMutablePointer<UInt64>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let m = try influxBox(p)
        let index = try required(index, "index")
        let term = try required(term, "term")
        m.lock.run {
            index.pointee = m.machine.appliedIndex
            term.pointee = m.machine.appliedTerm
        }
    }
}

@_cdecl("me_influx_clone")
public func me_influx_clone(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let m = try influxBox(p)
        let out = try required(out, "out")
        out.pointee = handle(InfluxBox(m.lock.run { m.machine }))
    }
}

@_cdecl("me_influx_write_snapshot")
public func me_influx_write_snapshot(_ p: OpaquePointer?, _ w: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let m = try influxBox(p)
        let w = try box(w, WriterBox.self, "snapshot writer handle")
        let machine = m.lock.run { m.machine }
        try w.owner.lock.run {
            guard let writer = w.writer else { throw ABIError.closed("snapshot writer") }
            var sink = writer  // a SnapshotSink (the writer's store lock is held here)
            try machine.writeSnapshot(to: &sink)
        }
    }
}

@_cdecl("me_influx_restore")
public func me_influx_restore(_ p: OpaquePointer?, _ r: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let m = try influxBox(p)
        let r = try box(r, ReaderBox.self, "snapshot reader handle")
        var restored = InfluxStateMachine(clock: m.lock.run { m.machine.clock })
        try r.owner.lock.run {
            let reader = try r.open()
            guard reader.meta.stateMachineKind == InfluxStateMachine.kind else {
                throw ABIError(
                    Int32(ME_E_FORMAT), "snapshot \(reader.meta.id) holds kind \"\(reader.meta.stateMachineKind)\", not \"\(InfluxStateMachine.kind)\"")
            }
            reader.rewind()
            var source = reader  // a SnapshotSource
            try restored.restoreSnapshot(from: &source)
        }
        m.lock.run { m.machine = restored }
    }
}

@_cdecl("me_influx_restore_bytes")
public func me_influx_restore_bytes(_ p: OpaquePointer?, _ data: UnsafeRawPointer?, _ length: Int, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let m = try influxBox(p)
        guard length >= 0 else { throw ABIError.argument("len is negative") }
        if length > 0 { _ = try required(data, "data") }
        var source = ByteSnapshotSource(length == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: data, count: length)))
        try m.lock.run { try m.machine.restoreSnapshot(from: &source) }
    }
}

@_cdecl("me_influx_metadb")
public func me_influx_metadb(
    _ p: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ length: UnsafeMutablePointer<Int>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let m = try influxBox(p)
        let out = try required(out, "out")
        let length = try required(length, "len")
        out.pointee = nil
        let bytes = m.lock.run { m.machine.store.data.metaDBBytes() }
        guard let memory = malloc(max(bytes.count, 1))?.assumingMemoryBound(to: UInt8.self) else {
            throw ABIError(Int32(ME_E_INTERNAL), "out of memory for a \(bytes.count)-byte meta.db")
        }
        bytes.withUnsafeBytes { if let base = $0.baseAddress { UnsafeMutableRawPointer(memory).copyMemory(from: base, byteCount: $0.count) } }
        out.pointee = memory
        length.pointee = bytes.count
    }
}
