// me_log_hard_state / me_log_set_hard_state and the named values (a host's stable store), kept in the
// log's hard-state file: term/vote/commit in its fields, the named values encoded in its context bytes.
//
// Context encoding (little-endian), empty when no value was ever set:
//   "MEV1" | count: u32 | count x (key length: u16 | key | value length: u32 | value), keys sorted bytewise.
import CMetaEngine
import MetaLog

/// The named values decoded from a hard state's context.
struct NamedValues {
    static let magic: [UInt8] = Array("MEV1".utf8)
    static let maxKey = 65535
    static let maxValue = 16 << 20

    /// Sorted by key (bytewise), keys unique.
    var pairs: [(key: [UInt8], value: [UInt8])] = []

    init() {}

    /// Decodes `context`; throws ME_E_CORRUPT naming the offset when it is not this encoding.
    init(decoding context: [UInt8]) throws(ABIError) {
        if context.isEmpty { return }
        var at = 0
        func take(_ n: Int, _ what: String) throws(ABIError) -> ArraySlice<UInt8> {
            guard n <= context.count - at else {
                throw ABIError(Int32(ME_E_CORRUPT), "hard-state named values: \(what) at offset \(at) needs \(n) bytes, \(context.count - at) left")
            }
            defer { at += n }
            return context[at..<(at + n)]
        }
        func uint(_ n: Int, _ what: String) throws(ABIError) -> Int {
            var v = 0
            for (shift, byte) in try take(n, what).enumerated() { v |= Int(byte) << (8 * shift) }
            return v
        }
        guard Array(try take(4, "magic")) == NamedValues.magic else {
            throw ABIError(Int32(ME_E_CORRUPT), "hard-state named values: bad magic at offset 0")
        }
        let count = try uint(4, "count")
        for i in 0..<count {
            let key = Array(try take(try uint(2, "key length \(i)"), "key \(i)"))
            let value = Array(try take(try uint(4, "value length \(i)"), "value \(i)"))
            if let previous = pairs.last, !previous.key.lexicographicallyPrecedes(key) {
                throw ABIError(Int32(ME_E_CORRUPT), "hard-state named values: key \(i) is out of order")
            }
            pairs.append((key, value))
        }
        guard at == context.count else {
            throw ABIError(Int32(ME_E_CORRUPT), "hard-state named values: \(context.count - at) trailing bytes at offset \(at)")
        }
    }

    /// The encoding described at the top of the file.
    func encoded() -> [UInt8] {
        if pairs.isEmpty { return [] }
        var out = NamedValues.magic
        func put(_ v: Int, _ n: Int) { for i in 0..<n { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        put(pairs.count, 4)
        for (key, value) in pairs {
            put(key.count, 2)
            out += key
            put(value.count, 4)
            out += value
        }
        return out
    }

    /// Position of `key`, or where it would be inserted.
    func search(_ key: [UInt8]) -> (Int, found: Bool) {
        var low = 0
        var high = pairs.count
        while low < high {
            let mid = (low + high) / 2
            if pairs[mid].key.lexicographicallyPrecedes(key) { low = mid + 1 } else { high = mid }
        }
        return (low, low < pairs.count && pairs[low].key == key)
    }
}

/// The key bytes, checked for NULL and length.
func keyBytes(_ key: UnsafeRawPointer?, _ length: Int) throws(ABIError) -> [UInt8] {
    guard length >= 1 && length <= NamedValues.maxKey else {
        throw ABIError.argument("key length \(length) is outside 1 ... \(NamedValues.maxKey)")
    }
    let key = try required(key, "key")
    return [UInt8](UnsafeRawBufferPointer(start: key, count: length))
}

/// A copy of a named value's bytes (the engine's and the log's), checked: ME_E_ARGUMENT when `length` is
/// outside 0 ... NamedValues.maxValue, or `value` is NULL and `length` > 0. O(length): one copy.
func valueBytes(_ value: UnsafeRawPointer?, _ length: Int) throws(ABIError) -> [UInt8] {
    guard length >= 0 && length <= NamedValues.maxValue else {
        throw ABIError.argument("value length \(length) is outside 0 ... \(NamedValues.maxValue)")
    }
    if length > 0 { _ = try required(value, "value") }
    return length == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: value, count: length))
}

@_cdecl("me_log_hard_state")
public func me_log_hard_state(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<me_hard_state>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        try readOpen(p, out) { log in
            let hard = log.hardState
            return me_hard_state(term: hard.term, vote: hard.vote, commit: hard.commit)
        }
    }
}

@_cdecl("me_log_set_hard_state")
public func me_log_set_hard_state(_ p: OpaquePointer?, _ state: UnsafePointer<me_hard_state>?, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try logBox(p)
        let state = try required(state, "state").pointee
        try b.lock.run {
            let context = b.log.hardState.context
            try b.log.saveHardState(HardState(term: state.term, vote: state.vote, commit: state.commit, context: context))
        }
    }
}

@_cdecl("me_log_value_set")
public func me_log_value_set(
    _ p: OpaquePointer?, _ key: UnsafeRawPointer?, _ keyLength: Int, _ value: UnsafeRawPointer?, _ valueLength: Int,
    _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try logBox(p)
        let key = try keyBytes(key, keyLength)
        let bytes = try valueBytes(value, valueLength)
        try b.lock.run {
            var hard = b.log.hardState
            var values = try NamedValues(decoding: hard.context)
            let (at, found) = values.search(key)
            if found { values.pairs[at].value = bytes } else { values.pairs.insert((key, bytes), at: at) }
            hard.context = values.encoded()
            try b.log.saveHardState(hard)
        }
    }
}

@_cdecl("me_log_value_get")
public func me_log_value_get(
    _ p: OpaquePointer?, _ key: UnsafeRawPointer?, _ keyLength: Int, _ buf: UnsafeMutableRawPointer?, _ cap: Int,
    _ len: UnsafeMutablePointer<Int>?, _ err: UnsafeMutablePointer<me_error>?
) -> Int32 {
    guarded(err) {
        let b = try logBox(p)
        let key = try keyBytes(key, keyLength)
        let len = try required(len, "len")
        try checkOpen(b)
        let values = try NamedValues(decoding: b.log.hardState.context)
        let (at, found) = values.search(key)
        guard found else { throw ABIError(Int32(ME_E_NOT_FOUND), "no value named \(printable(key))") }
        try values.pairs[at].value.withUnsafeBytes { bytes in
            try copyOut(bytes, buf, cap, len, what: "value \(printable(key))")
        }
    }
}

@_cdecl("me_log_value_delete")
public func me_log_value_delete(_ p: OpaquePointer?, _ key: UnsafeRawPointer?, _ keyLength: Int, _ err: UnsafeMutablePointer<me_error>?) -> Int32 {
    guarded(err) {
        let b = try logBox(p)
        let key = try keyBytes(key, keyLength)
        try b.lock.run {
            var hard = b.log.hardState
            var values = try NamedValues(decoding: hard.context)
            let (at, found) = values.search(key)
            guard found else { throw ABIError(Int32(ME_E_NOT_FOUND), "no value named \(printable(key))") }
            values.pairs.remove(at: at)
            hard.context = values.encoded()
            try b.log.saveHardState(hard)
        }
    }
}

/// A key for messages: its UTF-8 text in quotes when it is printable, else hex.
func printable(_ key: [UInt8]) -> String {
    if key.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) { return "\"" + String(decoding: key, as: UTF8.self) + "\"" }
    return "0x" + key.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}
