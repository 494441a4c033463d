import MetaLog
import XCTest

final class StandardPayloadTests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func testCheckValuesFromThePeersProtocol() {
        XCTAssertEqual(hex(StandardPayload.make(index: 1, size: 16)), "c15c0289ec2d0a9167ec8e65a18debbe")
        XCTAssertEqual(hex(StandardPayload.make(index: 500_000, size: 12)), "08215a9eadb4cf08d12cd3d2")
    }

    func testMatchesAcceptsPrefixesAndRejectsAnyFlip() {
        // 200 bytes: three 64-byte stretches, then words, then a tail of single bytes.
        let payload = StandardPayload.make(index: 77, size: 200)
        for size in 0...200 {
            XCTAssertTrue(payload.withUnsafeBytes { StandardPayload.matches(index: 77, bytes: .init(rebasing: $0[0..<size])) })
        }
        for size in [29, 64, 129, 200] {
            for position in 0..<size {
                var flipped = Array(payload[0..<size])
                flipped[position] ^= 0x10
                XCTAssertFalse(flipped.withUnsafeBytes { StandardPayload.matches(index: 77, bytes: $0) }, "size \(size), flip at \(position)")
            }
        }
        XCTAssertFalse(payload.withUnsafeBytes { StandardPayload.matches(index: 78, bytes: $0) })
    }

    func testSplitMix64GivesThePayloadWords() {
        var rng = SplitMix64(state: 1)
        let payload = StandardPayload.make(index: 1, size: 16)
        let words = payload.withUnsafeBytes { raw in
            (raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
        XCTAssertEqual(rng.next(), UInt64(littleEndian: words.0))
        XCTAssertEqual(rng.next(), UInt64(littleEndian: words.1))
        XCTAssertEqual(rng.state, 1 &+ 2 &* 0x9E37_79B9_7F4A_7C15)
    }
}
