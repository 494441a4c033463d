import CCRC32C

/// CRC32C (Castagnoli) over byte buffers, using the CPU's CRC instruction when it has one.
///
/// Cost: about one cycle per 8 bytes on the hardware path; no allocation.
public enum CRC32C {
    /// Extends `crc` (start from 0) over `bytes`. Checking "123456789" from 0 gives 0xE3069283.
    @inlinable
    public static func extend(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return crc32c_extend(crc, base, bytes.count)
    }

    /// Four independent ``extend(_:_:)`` calls in one pass, all from the same seed `crc`: the CRCs of the
    /// `count` bytes at each pointer, in order. On the hardware path the four run in lockstep, so four
    /// short buffers (log frames) cost about what one does. No allocation.
    static func extend4(_ crc: UInt32, _ buffers: (UnsafeRawPointer, Int), _ b1: (UnsafeRawPointer, Int),
                        _ b2: (UnsafeRawPointer, Int), _ b3: (UnsafeRawPointer, Int)) -> (UInt32, UInt32, UInt32, UInt32) {
        var crcs = (crc, crc, crc, crc)
        var data: (UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?) =
            (buffers.0, b1.0, b2.0, b3.0)
        var lengths = (buffers.1, b1.1, b2.1, b3.1)
        withUnsafeMutableBytes(of: &crcs) { c in
            withUnsafeBytes(of: &data) { d in
                withUnsafeBytes(of: &lengths) { l in
                    crc32c_extend4(c.baseAddress!.assumingMemoryBound(to: UInt32.self),
                                   d.baseAddress!.assumingMemoryBound(to: UnsafeRawPointer?.self),
                                   l.baseAddress!.assumingMemoryBound(to: Int.self))
                }
            }
        }
        return crcs
    }

    /// The CRC32C of `bytes`.
    @inlinable
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { extend(0, $0) }
    }

    /// Whether the hardware instruction path is in use on this machine.
    public static var isHardwareAccelerated: Bool { crc32c_hardware_available() != 0 }
}
