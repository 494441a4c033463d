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

    /// The CRC32C of `bytes`.
    @inlinable
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { extend(0, $0) }
    }

    /// Whether the hardware instruction path is in use on this machine.
    public static var isHardwareAccelerated: Bool { crc32c_hardware_available() != 0 }
}
