// Chunked snapshot transfer: the sender reads a published file's raw bytes, the receiver appends them
// into a resumable partial file and publishes it after verifying every byte (MetaSnapshot's receiver).
import CMetaEngine
import MetaSnapshot

/// A me_snapreceiver: nil receiver once finished or abandoned.
final class ReceiverBox {
    let owner: StoreBox
    var receiver: SnapshotReceiver?
    init(_ owner: StoreBox, _ receiver: SnapshotReceiver) {
        self.owner = owner
        self.receiver = receiver
    }

    /// The open receiver (call with the owner's lock held), or ME_E_CLOSED.
    func open() throws(ABIError) -> SnapshotReceiver {
        guard let receiver else { throw ABIError.closed("snapshot receiver") }
        return receiver
    }
}

@_cdecl("me_snapstore_file_size")
public func me_snapstore_file_size(
    _ p: OpaquePointer?, _ index: UInt64, _ term: UInt64, _ size: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try box(p, StoreBox.self, "snapshot store handle")
        let size = try required(size, "size")
        size.pointee = try b.lock.run { try b.open().fileSize(of: SnapshotID(index: index, term: term)) }
    }
}

@_cdecl("me_snapstore_read_raw")
public func me_snapstore_read_raw(
    _ p: OpaquePointer?, _ index: UInt64, _ term: UInt64, _ offset: UInt64, _ buf: UnsafeMutableRawPointer?, _ cap: Int,
    _ n: UnsafeMutablePointer<Int>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try box(p, StoreBox.self, "snapshot store handle")
        let n = try required(n, "n")
        n.pointee = 0
        if cap > 0 { _ = try required(buf, "buf") }
        let bytes = try b.lock.run { try b.open().readRaw(SnapshotID(index: index, term: term), offset: offset, count: max(cap, 0)) }
        if !bytes.isEmpty { bytes.withUnsafeBytes { buf!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        n.pointee = bytes.count
    }
}

@_cdecl("me_snapstore_receiver")
public func me_snapstore_receiver(
    _ p: OpaquePointer?, _ index: UInt64, _ term: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try box(p, StoreBox.self, "snapshot store handle")
        let out = try required(out, "out")
        out.pointee = nil
        let receiver = try b.lock.run { try b.open().receiver(for: SnapshotID(index: index, term: term)) }
        out.pointee = handle(ReceiverBox(b, receiver))
    }
}

@_cdecl("me_snapreceiver_offset")
public func me_snapreceiver_offset(_ p: OpaquePointer?, _ offset: UnsafeMutablePointer<UInt64>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let r = try box(p, ReceiverBox.self, "snapshot receiver handle")
        let offset = try required(offset, "offset")
        offset.pointee = try r.owner.lock.run { try r.open().offset }
    }
}

@_cdecl("me_snapreceiver_append")
public func me_snapreceiver_append(
    _ p: OpaquePointer?, _ offset: UInt64, _ data: UnsafeRawPointer?, _ length: Int, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let r = try box(p, ReceiverBox.self, "snapshot receiver handle")
        guard length >= 0 else { throw ABIError.argument("len is negative") }
        if length > 0 { _ = try required(data, "data") }
        let piece = length == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: data, count: length))
        try r.owner.lock.run { try r.open().append(at: offset, piece) }
    }
}

@_cdecl("me_snapreceiver_sync")
public func me_snapreceiver_sync(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let r = try box(p, ReceiverBox.self, "snapshot receiver handle")
        try r.owner.lock.run { try r.open().sync() }
    }
}

@_cdecl("me_snapreceiver_finish")
public func me_snapreceiver_finish(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let r = try box(p, ReceiverBox.self, "snapshot receiver handle")
        try r.owner.lock.run {
            let receiver = try r.open()
            _ = try r.owner.open()
            r.receiver = nil
            try receiver.finish()
        }
    }
}

@_cdecl("me_snapreceiver_abandon")
public func me_snapreceiver_abandon(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let r = try box(p, ReceiverBox.self, "snapshot receiver handle")
        try r.owner.lock.run {
            guard let receiver = r.receiver else { return }
            r.receiver = nil
            try receiver.abandon()
        }
    }
}

@_cdecl("me_snapreceiver_free")
public func me_snapreceiver_free(_ p: OpaquePointer?) {
    guard let p else { return }
    if let r = try? box(p, ReceiverBox.self, "snapshot receiver handle") { r.owner.lock.run { r.receiver = nil } }
    release(p, ReceiverBox.self)
}
