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

/// The InfluxClock an ME_CLOCK_* code names (me_influx_new, me_engine_open); ME_E_ARGUMENT for any other. O(1).
func influxClock(_ clock: Int32) throws(ABIError) -> InfluxClock {
    switch clock {
    case Int32(ME_CLOCK_INDEX_SECONDS): return .conformance
    case Int32(ME_CLOCK_LEADER_STAMPED): return .leaderStamped
    default: throw ABIError.argument("clock \(clock) is not ME_CLOCK_INDEX_SECONDS or ME_CLOCK_LEADER_STAMPED")
    }
}

@_cdecl("me_influx_new")
public func me_influx_new(_ clock: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) { try newHandle(out) { handle(InfluxBox(InfluxStateMachine(clock: try influxClock(clock)))) } }
}

@_cdecl("me_influx_free")
public func me_influx_free(_ p: OpaquePointer?) { release(p, InfluxBox.self) }

@_cdecl("me_influx_apply")
public func me_influx_apply(
    _ p: OpaquePointer?, _ index: UInt64, _ term: UInt64, _ payload: UnsafeRawPointer?, _ length: Int,
    _ rejected: UnsafeMutablePointer<Int32>?, _ msg: UnsafeMutablePointer<CChar>?, _ cap: Int, _ msgLength: UnsafeMutablePointer<Int>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let m = try influxBox(p)
        let rejected = try required(rejected, "rejected")
        let payload = try callerBytes(payload, length, "payload")
        let result = m.lock.run { m.machine.apply(index: index, term: term, payload: payload) }
        rejected.pointee = result == nil ? 0 : 1
        putMessage(result?.description ?? "", msg, cap, msgLength)
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
        try newHandle(out) { handle(InfluxBox(m.lock.run { m.machine })) }
    }
}

@_cdecl("me_influx_write_snapshot")
public func me_influx_write_snapshot(_ p: OpaquePointer?, _ w: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let m = try influxBox(p)
        let w = try writerBox(w)
        let machine = m.lock.run { m.machine }
        try w.locked { writer in
            var sink = writer  // a SnapshotSink (the writer's store lock is held here)
            try machine.writeSnapshot(to: &sink)
        }
    }
}

@_cdecl("me_influx_restore")
public func me_influx_restore(_ p: OpaquePointer?, _ r: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let m = try influxBox(p)
        let r = try readerBox(r)
        var restored = InfluxStateMachine(clock: m.lock.run { m.machine.clock })
        try r.locked { reader in
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
        var source = ByteSnapshotSource([UInt8](try callerBytes(data, length, "data")))
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
        out.pointee = try mallocMetaDB(bytes)
        length.pointee = bytes.count
    }
}
