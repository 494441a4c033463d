// me_kv_*: MetaKV's etcd 3.4 key-value machine behind a handle: apply an InternalRaftRequest entry and get
// the fixtures' canonical JSON of its outcome, read a key's current value.
import CMetaEngine
import MetaKV

/// A me_kv handle: the machine and its lock.
final class KVBox {
    var machine = KVStateMachine()
    let lock = HandleLock()
}

@inline(__always)
func kvBox(_ p: OpaquePointer?) throws(ABIError) -> KVBox { try box(p, KVBox.self, "kv handle") }

@_cdecl("me_kv_new")
public func me_kv_new(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) { try newHandle(out) { handle(KVBox()) } }
}

@_cdecl("me_kv_free")
public func me_kv_free(_ p: OpaquePointer?) { release(p, KVBox.self) }

@_cdecl("me_kv_apply")
public func me_kv_apply(
    _ p: OpaquePointer?, _ index: UInt64, _ term: UInt64, _ payload: UnsafeRawPointer?, _ length: Int,
    _ buf: UnsafeMutableRawPointer?, _ cap: Int, _ len: UnsafeMutablePointer<Int>?, _ isError: UnsafeMutablePointer<Int32>?,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let m = try kvBox(p)
        let len = try required(len, "len")
        let bytes = try callerBytes(payload, length, "payload", lengthName: "payload_len")
        let result = m.lock.run { m.machine.apply(index: index, term: term, payload: bytes) }
        if case .failure = result { isError?.pointee = 1 } else { isError?.pointee = 0 }
        var line = KVJSON.line(result)
        try line.withUTF8 { try copyOut(UnsafeRawBufferPointer($0), buf, cap, len, what: "the outcome of entry \(index)") }
    }
}

@_cdecl("me_kv_get")
public func me_kv_get(
    _ p: OpaquePointer?, _ key: UnsafeRawPointer?, _ keyLength: Int, _ buf: UnsafeMutableRawPointer?, _ cap: Int,
    _ len: UnsafeMutablePointer<Int>?, _ modRevision: UnsafeMutablePointer<Int64>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let m = try kvBox(p)
        let len = try required(len, "len")
        guard keyLength > 0 else { throw ABIError.argument("key_len is 0") }
        let key = [UInt8](UnsafeRawBufferPointer(start: try required(key, "key"), count: keyLength))
        guard let kv = m.lock.run({ m.machine.store.get(key) }) else {
            throw ABIError(Int32(ME_E_NOT_FOUND), "no key \(printable(key))")
        }
        modRevision?.pointee = kv.modRevision
        try kv.value.withUnsafeBytes { try copyOut($0, buf, cap, len, what: "value of \(printable(key))") }
    }
}
