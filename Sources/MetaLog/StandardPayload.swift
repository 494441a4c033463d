/// The standard test payload shared by `metactl log`, Bench and ../shared/peers: entry `i`'s payload is
/// `S` bytes of splitmix64 seeded with `i`, each 64-bit output written little-endian, truncated to `S`.
///
/// Entry 1 starts with `c15c0289ec2d0a9167ec8e65a18debbe`. Cost: about one multiply-xor chain per 8 bytes,
/// no allocation for `fill` and `matches`.
public enum StandardPayload {
    @inline(__always)
    static func next(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Writes the payload of entry `index` into all of `buffer` (its count is the payload size).
    public static func fill(index: UInt64, into buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        var state = index
        var offset = 0
        let count = buffer.count
        while offset + 8 <= count {
            (base + offset).storeBytes(of: next(&state).littleEndian, as: UInt64.self)
            offset += 8
        }
        if offset < count {
            var word = next(&state)
            while offset < count {
                base.storeBytes(of: UInt8(truncatingIfNeeded: word), toByteOffset: offset, as: UInt8.self)
                word >>= 8
                offset += 1
            }
        }
    }

    /// The payload of entry `index`, `size` bytes long.
    public static func make(index: UInt64, size: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            fill(index: index, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = size
        }
    }

    /// Whether `bytes` equals the first `bytes.count` bytes of entry `index`'s payload.
    public static func matches(index: UInt64, bytes: UnsafeRawBufferPointer) -> Bool {
        var state = index
        var offset = 0
        let count = bytes.count
        // The differences are OR-ed together, 64 bytes at a time, and tested once per stretch: no branch
        // per word, so the multiplies of consecutive words overlap.
        var difference: UInt64 = 0
        while count - offset >= 64 {
            for k in 0..<8 {
                difference |= bytes.loadUnaligned(fromByteOffset: offset &+ 8 &* k, as: UInt64.self) ^ next(&state).littleEndian
            }
            if difference != 0 { return false }
            offset &+= 64
        }
        while count - offset >= 8 {
            difference |= bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self) ^ next(&state).littleEndian
            offset &+= 8
        }
        if difference != 0 { return false }
        if offset < count {
            var word = next(&state)
            while offset < count {
                if bytes[offset] != UInt8(truncatingIfNeeded: word) { return false }
                word >>= 8
                offset += 1
            }
        }
        return true
    }
}

/// splitmix64 as a seeded random number generator (the same step as `StandardPayload`): the peers'
/// random-read index stream starts from state 42, and tests use it to make every choice replayable from
/// its seed. Not for cryptography. Cost: a few multiplies per value, no allocation.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's whole state; the next value is derived from `state + 0x9E3779B97F4A7C15`.
    public var state: UInt64

    /// A generator whose first value is splitmix64's first output for `state`.
    public init(state: UInt64) { self.state = state }

    /// The next 64-bit value.
    public mutating func next() -> UInt64 { StandardPayload.next(&state) }
}
