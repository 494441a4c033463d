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

    /// Runs `body` on the open store with `lock` held: throws ME_E_CLOSED (body not run) after
    /// me_snapstore_close, else what `body` throws. Costs one lock round trip plus `body`.
    func locked<R>(_ body: (SnapshotStore) throws -> R) throws -> R {
        try lock.run { try body(try open()) }
    }

    /// A new child handle (writer, reader, receiver) named `name` around what `make` returns from the open
    /// store under `lock`; throws as `locked`. One retained box beyond `make`.
    func newChild<Value>(_ name: String, _ make: (SnapshotStore) throws -> Value) throws -> OpaquePointer {
        handle(StoreChild(self, try locked(make), name: name))
    }
}

@inline(__always)
func storeBox(_ p: OpaquePointer?) throws(ABIError) -> StoreBox { try box(p, StoreBox.self, "snapshot store handle") }

/// A handle made from a store (me_snapwriter, me_snapreader, me_snapreceiver): it shares the store box's
/// lock; `value` is nil once the writer is published or abandoned, the reader closed, the receiver finished
/// or abandoned.
final class StoreChild<Value> {
    let owner: StoreBox
    var value: Value?
    /// What ME_E_CLOSED calls it ("snapshot reader").
    let name: String

    init(_ owner: StoreBox, _ value: Value, name: String) {
        self.owner = owner
        self.value = value
        self.name = name
    }

    /// The open value (call with the owner's lock held), or ME_E_CLOSED naming it. O(1).
    func open() throws(ABIError) -> Value {
        guard let value else { throw ABIError.closed(name) }
        return value
    }

    /// Runs `body` on the open value with the owner's lock held: throws ME_E_CLOSED (body not run) once the
    /// value is gone, else what `body` throws. Costs one lock round trip plus `body`.
    func locked<R>(_ body: (Value) throws -> R) throws -> R {
        try owner.lock.run { try body(try open()) }
    }

    /// Drops the value under the owner's lock (a reader's or receiver's close and free); never fails. O(1)
    /// plus the value's deinit.
    func close() {
        owner.lock.run { value = nil }
    }
}

/// A me_snapwriter.
typealias WriterBox = StoreChild<SnapshotWriter>
/// A me_snapreader.
typealias ReaderBox = StoreChild<SnapshotReader>

@inline(__always)
func writerBox(_ p: OpaquePointer?) throws(ABIError) -> WriterBox { try box(p, WriterBox.self, "snapshot writer handle") }

@inline(__always)
func readerBox(_ p: OpaquePointer?) throws(ABIError) -> ReaderBox { try box(p, ReaderBox.self, "snapshot reader handle") }

@_cdecl("me_snapstore_open")
public func me_snapstore_open(_ dir: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let dir = try required(dir, "dir")
        try newHandle(out) { handle(StoreBox(try SnapshotStore(directory: String(cString: dir)))) }
    }
}

@_cdecl("me_snapstore_close")
public func me_snapstore_close(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try storeBox(p)
        b.lock.run { b.store = nil }
    }
}

@_cdecl("me_snapstore_free")
public func me_snapstore_free(_ p: OpaquePointer?) { release(p, StoreBox.self) }

@_cdecl("me_snapstore_create")
public func me_snapstore_create(
    _ p: OpaquePointer?, _ kind: UnsafePointer<CChar>?, _ smVersion: UInt32, _ index: UInt64, _ term: UInt64,
    _ membership: UnsafeRawPointer?, _ membershipLength: Int, _ createdAt: Int64, _ out: UnsafeMutablePointer<OpaquePointer?>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try storeBox(p)
        let kind = try required(kind, "kind")
        try newHandle(out) {
            let members = [UInt8](try callerBytes(membership, membershipLength, "membership", lengthName: "membership_len"))
            let meta = SnapshotMeta(
                stateMachineKind: String(cString: kind), stateMachineVersion: smVersion, lastIndex: index, lastTerm: term,
                membership: members, createdAtNanos: createdAt)
            return try b.newChild("snapshot writer") { try $0.create(meta) }
        }
    }
}

@_cdecl("me_snapwriter_write")
public func me_snapwriter_write(_ p: OpaquePointer?, _ data: UnsafeRawPointer?, _ length: Int, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let w = try writerBox(p)
        let data = try callerBytes(data, length, "data")
        try w.locked { try $0.write(data) }
    }
}

@_cdecl("me_snapwriter_publish")
public func me_snapwriter_publish(_ p: OpaquePointer?, _ id: UnsafeMutablePointer<me_snapshot_id>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let w = try writerBox(p)
        try w.locked { writer in
            guard let store = w.owner.store else {
                w.value = nil
                writer.abandon()
                throw ABIError.closed("snapshot store")
            }
            w.value = nil
            let published = try store.publish(writer)
            id?.pointee = me_snapshot_id(index: published.index, term: published.term)
        }
    }
}

@_cdecl("me_snapwriter_abandon")
public func me_snapwriter_abandon(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let w = try writerBox(p)
        try w.owner.lock.run { try abandonWriter(w) }
    }
}

/// Drops the writer and its temporary file (call with the owner's lock held); nothing if already closed.
func abandonWriter(_ w: WriterBox) throws {
    guard let writer = w.value else { return }
    w.value = nil
    writer.abandon()
    try PosixSnapshotFileSystem().remove(writer.path)
}

@_cdecl("me_snapwriter_free")
public func me_snapwriter_free(_ p: OpaquePointer?) {
    if let w = try? writerBox(p) { w.owner.lock.run { try? abandonWriter(w) } }
    release(p, WriterBox.self)
}

@_cdecl("me_snapstore_list")
public func me_snapstore_list(
    _ p: OpaquePointer?, _ ids: UnsafeMutablePointer<me_snapshot_id>?, _ cap: Int, _ count: UnsafeMutablePointer<Int>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try storeBox(p)
        let count = try required(count, "count")
        let list = try b.locked { try $0.list() }
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
        let b = try storeBox(p)
        try b.locked { try $0.delete(SnapshotID(index: index, term: term)) }
    }
}

@_cdecl("me_snapstore_retain")
public func me_snapstore_retain(_ p: OpaquePointer?, _ newest: Int, _ deleted: UnsafeMutablePointer<Int>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try storeBox(p)
        let gone = try b.locked { try $0.retain(newest: newest) }
        deleted?.pointee = gone.count
    }
}

@_cdecl("me_snapstore_open_reader")
public func me_snapstore_open_reader(
    _ p: OpaquePointer?, _ index: UInt64, _ term: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try storeBox(p)
        try newHandle(out) { try b.newChild("snapshot reader") { try $0.open(SnapshotID(index: index, term: term)) } }
    }
}

@_cdecl("me_snapreader_info")
public func me_snapreader_info(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<me_snapshot_info>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let r = try readerBox(p)
        let out = try required(out, "out")
        try r.locked { reader in
            let layout = reader.layout
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
        let r = try readerBox(p)
        let len = try required(len, "len")
        try r.locked { reader in
            let kind = Array(reader.meta.stateMachineKind.utf8)
            try kind.withUnsafeBytes { bytes in try copyOut(bytes, UnsafeMutableRawPointer(buf), cap, len, what: "kind") }
        }
    }
}

@_cdecl("me_snapreader_membership")
public func me_snapreader_membership(
    _ p: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ cap: Int, _ len: UnsafeMutablePointer<Int>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let r = try readerBox(p)
        let len = try required(len, "len")
        try r.locked { reader in try reader.meta.membership.withUnsafeBytes { bytes in try copyOut(bytes, buf, cap, len, what: "membership") } }
    }
}

@_cdecl("me_snapreader_read")
public func me_snapreader_read(
    _ p: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ cap: Int, _ n: UnsafeMutablePointer<Int>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let r = try readerBox(p)
        let n = try required(n, "n")
        n.pointee = 0
        guard cap > 0 else { throw ABIError.argument("cap is 0: a read needs room for at least one byte") }
        let buf = try required(buf, "buf")
        try r.locked { n.pointee = try $0.read(into: UnsafeMutableRawBufferPointer(start: buf, count: cap)) }
    }
}

@_cdecl("me_snapreader_close")
public func me_snapreader_close(_ p: OpaquePointer?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) { try readerBox(p).close() }
}

@_cdecl("me_snapreader_free")
public func me_snapreader_free(_ p: OpaquePointer?) {
    (try? readerBox(p))?.close()
    release(p, ReaderBox.self)
}
