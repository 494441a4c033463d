import CCRC32C
import XCTest

final class CRC32CTests: XCTestCase {
    func testStandardCheckValue() {
        let bytes = Array("123456789".utf8)
        XCTAssertEqual(crc32c_extend(0, bytes, bytes.count), 0xE306_9283)
        XCTAssertEqual(crc32c_extend_portable(0, bytes, bytes.count), 0xE306_9283)
    }

    func testKnownVectors() {
        // RFC 3720 (iSCSI) B.4 test vectors.
        let zeros = [UInt8](repeating: 0, count: 32)
        XCTAssertEqual(crc32c_extend(0, zeros, 32), 0x8A91_36AA)
        let ones = [UInt8](repeating: 0xFF, count: 32)
        XCTAssertEqual(crc32c_extend(0, ones, 32), 0x62A8_AB43)
        let ascending = (0..<32).map { UInt8($0) }
        XCTAssertEqual(crc32c_extend(0, ascending, 32), 0x46DD_794E)
    }

    func testHardwareMatchesPortableOnRandomBuffers() {
        var rng = SystemRandomNumberGenerator()
        // Lengths around every block boundary of the three-stream paths, at odd alignments.
        let lengths = [0, 1, 7, 8, 9, 255, 256, 767, 768, 769, 1000, 24575, 24576, 24577, 100_003, 1 << 20]
        for length in lengths {
            let buffer = (0..<(length + 8)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            for offset in 0..<8 {
                let count = length
                buffer.withUnsafeBytes { raw in
                    let p = raw.baseAddress! + offset
                    XCTAssertEqual(
                        crc32c_extend(0x1234_5678, p, count), crc32c_extend_portable(0x1234_5678, p, count),
                        "length \(length) offset \(offset)")
                }
            }
        }
    }

    /// The four-stream call gives each buffer's own CRC, for equal and unequal lengths (the common part runs
    /// in lockstep, each tail alone), at every alignment, from different seeds.
    func testExtend4MatchesFourSingleCalls() {
        var rng = SystemRandomNumberGenerator()
        let buffer = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let shapes: [[Int]] = [[0, 0, 0, 0], [156, 156, 156, 156], [156, 60, 156, 4], [1, 2, 3, 4], [7, 8, 9, 12],
                               [36, 28, 44, 4000], [1000, 999, 1001, 33], [4, 4, 4, 5]]
        buffer.withUnsafeBytes { raw in
            let base = raw.baseAddress!
            for lengths in shapes {
                for shift in 0..<8 {
                    let starts = [shift, 100 + 3 * shift, 200 + shift, 300 + 5 * shift]
                    let seeds: [UInt32] = [0, 0x1234_5678, 0xFFFF_FFFF, UInt32(shift)]
                    var crcs = seeds
                    var data: [UnsafeRawPointer?] = starts.map { base + $0 }
                    var counts = lengths
                    crcs.withUnsafeMutableBufferPointer { c in
                        data.withUnsafeMutableBufferPointer { d in
                            counts.withUnsafeMutableBufferPointer { l in crc32c_extend4(c.baseAddress, d.baseAddress, l.baseAddress) }
                        }
                    }
                    for j in 0..<4 {
                        XCTAssertEqual(crcs[j], crc32c_extend(seeds[j], base + starts[j], lengths[j]), "lengths \(lengths) shift \(shift) stream \(j)")
                        XCTAssertEqual(crcs[j], crc32c_extend_portable(seeds[j], base + starts[j], lengths[j]))
                    }
                }
            }
        }
    }

    func testExtendIsIncremental() {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = crc32c_extend(0, bytes, bytes.count)
        bytes.withUnsafeBytes { raw in
            let first = crc32c_extend(0, raw.baseAddress!, 40_000)
            XCTAssertEqual(crc32c_extend(first, raw.baseAddress! + 40_000, 60_000), whole)
        }
    }

    func testHardwarePathIsUsedOnX86() {
        #if arch(x86_64) || arch(arm64)
        XCTAssertEqual(crc32c_hardware_available(), 1)
        #endif
    }
}
