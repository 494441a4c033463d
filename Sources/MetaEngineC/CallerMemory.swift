// The caller's memory at the C boundary: input byte ranges (pointer + length) checked once, messages
// written into the caller's buffer, and malloc'ed copies the caller frees with free(3).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMetaEngine

/// The caller's `length` bytes at `data`, checked: ME_E_ARGUMENT "`lengthName` is negative" when
/// `length` < 0, ME_E_ARGUMENT "`what` is NULL" when `length` > 0 and `data` is NULL. An empty range may
/// have a NULL start. The view borrows the caller's memory (valid for the call only); O(1), no copy.
func callerBytes(
    _ data: UnsafeRawPointer?, _ length: Int, _ what: String, lengthName: String = "len"
) throws(ABIError) -> UnsafeRawBufferPointer {
    guard length >= 0 else { throw ABIError.argument("\(lengthName) is negative") }
    if length > 0 { _ = try required(data, what) }
    return UnsafeRawBufferPointer(start: data, count: length)
}

/// Writes `text` for the caller: `*length` (when not NULL) gets its whole UTF-8 length; `buf` (when not
/// NULL and `cap` > 0) gets as many bytes as fit in `cap - 1`, then a NUL. Never fails; O(bytes written),
/// no allocation beyond the string's own.
func putMessage(_ text: String, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int, _ length: UnsafeMutablePointer<Int>?) {
    let utf8 = text.utf8
    length?.pointee = utf8.count
    guard let buf, cap > 0 else { return }
    var n = 0
    for byte in utf8 where n < cap - 1 {
        buf[n] = CChar(bitPattern: byte)
        n += 1
    }
    buf[n] = 0
}

/// A malloc'ed copy of a meta.db for the caller to free with free(3) (one byte allocated when empty, so
/// the pointer is never NULL). Throws ME_E_INTERNAL when malloc fails. O(bytes): one allocation, one copy.
func mallocMetaDB(_ bytes: [UInt8]) throws(ABIError) -> UnsafeMutablePointer<UInt8> {
    guard let memory = malloc(max(bytes.count, 1))?.assumingMemoryBound(to: UInt8.self) else {
        throw ABIError(Int32(ME_E_INTERNAL), "out of memory for a \(bytes.count)-byte meta.db")
    }
    bytes.withUnsafeBytes { if let base = $0.baseAddress { UnsafeMutableRawPointer(memory).copyMemory(from: base, byteCount: $0.count) } }
    return memory
}
