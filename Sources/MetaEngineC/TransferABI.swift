// Chunked snapshot transfer: the sender reads a published file's raw bytes, the receiver appends them
// into a resumable partial file and publishes it after verifying every byte (MetaSnapshot's receiver).
import CMetaEngine
import MetaSnapshot

/// A me_snapreceiver.
typealias ReceiverBox = StoreChild<SnapshotReceiver>

@inline(__always)
func receiverBox(_ p: OpaquePointer?) throws(ABIError) -> ReceiverBox { try box(p, ReceiverBox.self, "snapshot receiver handle") }

@_cdecl("me_snapstore_file_size")
public func me_snapstore_file_size(
    _ p: OpaquePointer?, _ index: UInt64, _ term: UInt64, _ size: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try storeBox(p)
        let size = try required(size, "size")
        size.pointee = try b.locked { try $0.fileSize(of: SnapshotID(index: index, term: term)) }
    }
}

@_cdecl("me_snapstore_read_raw")
public func me_snapstore_read_raw(
    _ p: OpaquePointer?, _ index: UInt64, _ term: UInt64, _ offset: UInt64, _ buf: UnsafeMutableRawPointer?, _ cap: Int,
    _ n: UnsafeMutablePointer<Int>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try storeBox(p)
        let n = try required(n, "n")
        n.pointee = 0
        if cap > 0 { _ = try required(buf, "buf") }
        let bytes = try b.locked { try $0.readRaw(SnapshotID(index: index, term: term), offset: offset, count: max(cap, 0)) }
        if !bytes.isEmpty { bytes.withUnsafeBytes { buf!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        n.pointee = bytes.count
    }
}

@_cdecl("me_snapstore_receiver")
public func me_snapstore_receiver(
    _ p: OpaquePointer?, _ index: UInt64, _ term: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try storeBox(p)
        try newHandle(out) { try b.newChild("snapshot receiver") { try $0.receiver(for: SnapshotID(index: index, term: term)) } }
    }
}

@_cdecl("me_snapreceiver_offset")
public func me_snapreceiver_offset(_ p: OpaquePointer?, _ offset: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let r = try receiverBox(p)
        let offset = try required(offset, "offset")
        offset.pointee = try r.locked { $0.offset }
    }
}

@_cdecl("me_snapreceiver_append")
public func me_snapreceiver_append(
    _ p: OpaquePointer?, _ offset: UInt64, _ data: UnsafeRawPointer?, _ length: Int, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let r = try receiverBox(p)
        let piece = [UInt8](try callerBytes(data, length, "data"))
        try r.locked { try $0.append(at: offset, piece) }
    }
}

@_cdecl("me_snapreceiver_sync")
public func me_snapreceiver_sync(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        try receiverBox(p).locked { try $0.sync() }
    }
}

@_cdecl("me_snapreceiver_finish")
public func me_snapreceiver_finish(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let r = try receiverBox(p)
        try r.locked { receiver in
            _ = try r.owner.open()
            r.value = nil
            try receiver.finish()
        }
    }
}

@_cdecl("me_snapreceiver_abandon")
public func me_snapreceiver_abandon(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let r = try receiverBox(p)
        try r.owner.lock.run {
            guard let receiver = r.value else { return }
            r.value = nil
            try receiver.abandon()
        }
    }
}

@_cdecl("me_snapreceiver_free")
public func me_snapreceiver_free(_ p: OpaquePointer?) {
    (try? receiverBox(p))?.close()
    release(p, ReceiverBox.self)
}
