// me_snapstore_* / me_snapwriter_* / me_snapreader_*: MetaSnapshot's store, streaming writer and reader.
// A store and everything made from it share the store box's lock (SnapshotStore is single-threaded).
import CMetaEngine
import MetaSnapshot

/// What a me_snapstore handle points at; `store` is nil once closed.
final class StoreBox {
    var store: SnapshotStore?
    let lock = HandleLock()
    init(_ store: SnapshotStore) { self.store = store }

    /// The open store (call with `lock` held), or ME_E_CLOSED.
    func open() throws(ABIError) -> SnapshotStore {
        guard let store else { throw ABIError.closed("snapshot store") }
        return store
    }
}

/// A me_snapwriter: nil writer once published or abandoned.
final class WriterBox {
    let owner: StoreBox
    var writer: SnapshotWriter?
    init(_ owner: StoreBox, _ writer: SnapshotWriter) {
        self.owner = owner
        self.writer = writer
    }
}

/// A me_snapreader: nil reader once closed.
final class ReaderBox {
    let owner: StoreBox
    var reader: SnapshotReader?
    init(_ owner: StoreBox, _ reader: SnapshotReader) {
        self.owner = owner
        self.reader = reader
    }

    /// The open reader (call with the owner's lock held), or ME_E_CLOSED.
    func open() throws(ABIError) -> SnapshotReader {
        guard let reader else { throw ABIError.closed("snapshot reader") }
        return reader
    }
}

@_cdecl("me_snapstore_open")
public func me_snapstore_open(_ dir: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let dir = try required(dir, "dir")
        let out = try required(out, "out")
        out.pointee = nil
        out.pointee = handle(StoreBox(try SnapshotStore(directory: String(cString: dir))))
    }
}

@_cdecl("me_snapstore_close")
public func me_snapstore_close(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try box(p, StoreBox.self, "snapshot store handle")
        b.lock.run { b.store = nil }
    }
}

@_cdecl("me_snapstore_free")
public func me_snapstore_free(_ p: OpaquePointer?) {
    guard let p else { return }
    release(p, StoreBox.self)
}

@_cdecl("me_snapstore_create")
public func me_snapstore_create(
    _ p: OpaquePointer?, _ kind: UnsafePointer<CChar>?, _ smVersion: UInt32, _ index: UInt64, _ term: UInt64,
    _ membership: UnsafeRawPointer?, _ membershipLength: Int, _ createdAt: Int64, _ out: UnsafeMutablePointer<OpaquePointer?>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try box(p, StoreBox.self, "snapshot store handle")
        let kind = try required(kind, "kind")
        let out = try required(out, "out")
        out.pointee = nil
        guard membershipLength >= 0 else { throw ABIError.argument("membership_len is negative") }
        if membershipLength > 0 { _ = try required(membership, "membership") }
        let members = membershipLength == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: membership, count: membershipLength))
        let meta = SnapshotMeta(
            stateMachineKind: String(cString: kind), stateMachineVersion: smVersion, lastIndex: index, lastTerm: term,
            membership: members, createdAtNanos: createdAt)
        let writer = try b.lock.run { try b.open().create(meta) }
        out.pointee = handle(WriterBox(b, writer))
    }
}

@_cdecl("me_snapwriter_write")
public func me_snapwriter_write(_ p: OpaquePointer?, _ data: UnsafeRawPointer?, _ length: Int, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let w = try box(p, WriterBox.self, "snapshot writer handle")
        guard length >= 0 else { throw ABIError.argument("len is negative") }
        if length > 0 { _ = try required(data, "data") }
        try w.owner.lock.run {
            guard let writer = w.writer else { throw ABIError.closed("snapshot writer") }
            try writer.write(UnsafeRawBufferPointer(start: data, count: length))
        }
    }
}

@_cdecl("me_snapwriter_publish")
public func me_snapwriter_publish(_ p: OpaquePointer?, _ id: UnsafeMutablePointer<me_snapshot_id>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let w = try box(p, WriterBox.self, "snapshot writer handle")
        try w.owner.lock.run {
            guard let writer = w.writer else { throw ABIError.closed("snapshot writer") }
            guard let store = w.owner.store else {
                w.writer = nil
                writer.abandon()
                throw ABIError.closed("snapshot store")
            }
            w.writer = nil
            let published = try store.publish(writer)
            id?.pointee = me_snapshot_id(index: published.index, term: published.term)
        }
    }
}

@_cdecl("me_snapwriter_abandon")
public func me_snapwriter_abandon(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let w = try box(p, WriterBox.self, "snapshot writer handle")
        try w.owner.lock.run { try abandonWriter(w) }
    }
}

/// Drops the writer and its temporary file (call with the owner's lock held); nothing if already closed.
func abandonWriter(_ w: WriterBox) throws {
    guard let writer = w.writer else { return }
    w.writer = nil
    writer.abandon()
    try PosixSnapshotFileSystem().remove(writer.path)
}

@_cdecl("me_snapwriter_free")
public func me_snapwriter_free(_ p: OpaquePointer?) {
    guard let p else { return }
    if let w = try? box(p, WriterBox.self, "snapshot writer handle") { w.owner.lock.run { try? abandonWriter(w) } }
    release(p, WriterBox.self)
}

@_cdecl("me_snapstore_list")
public func me_snapstore_list(
    _ p: OpaquePointer?, _ ids: UnsafeMutablePointer<me_snapshot_id>?, _ cap: Int, _ count: UnsafeMutablePointer<Int>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try box(p, StoreBox.self, "snapshot store handle")
        let count = try required(count, "count")
        let list = try b.lock.run { try b.open().list() }
        count.pointee = list.count
        guard list.count <= cap else { throw ABIError.tooSmall("snapshot list", needed: list.count, cap: cap) }
        if list.isEmpty { return }
        let ids = try required(ids, "ids")
        for (i, id) in list.enumerated() { ids[i] = me_snapshot_id(index: id.index, term: id.term) }
    }
}

@_cdecl("me_snapstore_delete")
public func me_snapstore_delete(_ p: OpaquePointer?, _ index: UInt64, _ term: UInt64, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try box(p, StoreBox.self, "snapshot store handle")
        try b.lock.run { try b.open().delete(SnapshotID(index: index, term: term)) }
    }
}

@_cdecl("me_snapstore_retain")
public func me_snapstore_retain(_ p: OpaquePointer?, _ newest: Int, _ deleted: UnsafeMutablePointer<Int>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try box(p, StoreBox.self, "snapshot store handle")
        let gone = try b.lock.run { try b.open().retain(newest: newest) }
        deleted?.pointee = gone.count
    }
}

@_cdecl("me_snapstore_open_reader")
public func me_snapstore_open_reader(
    _ p: OpaquePointer?, _ index: UInt64, _ term: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try box(p, StoreBox.self, "snapshot store handle")
        let out = try required(out, "out")
        out.pointee = nil
        let reader = try b.lock.run { try b.open().open(SnapshotID(index: index, term: term)) }
        out.pointee = handle(ReaderBox(b, reader))
    }
}

@_cdecl("me_snapreader_info")
public func me_snapreader_info(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<me_snapshot_info>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let r = try box(p, ReaderBox.self, "snapshot reader handle")
        let out = try required(out, "out")
        try r.owner.lock.run {
            let layout = try r.open().layout
            let meta = layout.meta
            out.pointee = me_snapshot_info(
                index: meta.lastIndex, term: meta.lastTerm, sm_version: meta.stateMachineVersion, created_at_nanos: meta.createdAtNanos,
                body_bytes: layout.rawLength, file_bytes: layout.fileSize, membership_len: meta.membership.count,
                kind_len: meta.stateMachineKind.utf8.count)
        }
    }
}

@_cdecl("me_snapreader_kind")
public func me_snapreader_kind(
    _ p: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int, _ len: UnsafeMutablePointer<Int>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let r = try box(p, ReaderBox.self, "snapshot reader handle")
        let len = try required(len, "len")
        try r.owner.lock.run {
            let kind = Array(try r.open().meta.stateMachineKind.utf8)
            try kind.withUnsafeBytes { bytes in try copyOut(bytes, UnsafeMutableRawPointer(buf), cap, len, what: "kind") }
        }
    }
}

@_cdecl("me_snapreader_membership")
public func me_snapreader_membership(
    _ p: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ cap: Int, _ len: UnsafeMutablePointer<Int>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let r = try box(p, ReaderBox.self, "snapshot reader handle")
        let len = try required(len, "len")
        try r.owner.lock.run {
            let members = try r.open().meta.membership
            try members.withUnsafeBytes { bytes in try copyOut(bytes, buf, cap, len, what: "membership") }
        }
    }
}

@_cdecl("me_snapreader_read")
public func me_snapreader_read(
    _ p: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ cap: Int, _ n: UnsafeMutablePointer<Int>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let r = try box(p, ReaderBox.self, "snapshot reader handle")
        let n = try required(n, "n")
        n.pointee = 0
        guard cap > 0 else { throw ABIError.argument("cap is 0: a read needs room for at least one byte") }
        let buf = try required(buf, "buf")
        try r.owner.lock.run { n.pointee = try r.open().read(into: UnsafeMutableRawBufferPointer(start: buf, count: cap)) }
    }
}

@_cdecl("me_snapreader_close")
public func me_snapreader_close(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let r = try box(p, ReaderBox.self, "snapshot reader handle")
        r.owner.lock.run { r.reader = nil }
    }
}

@_cdecl("me_snapreader_free")
public func me_snapreader_free(_ p: OpaquePointer?) {
    guard let p else { return }
    if let r = try? box(p, ReaderBox.self, "snapshot reader handle") { r.owner.lock.run { r.reader = nil } }
    release(p, ReaderBox.self)
}
