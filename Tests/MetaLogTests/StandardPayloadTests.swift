import MetaLog
import XCTest

final class StandardPayloadTests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func testCheckValuesFromThePeersProtocol() {
        XCTAssertEqual(hex(StandardPayload.make(index: 1, size: 16)), "c15c0289ec2d0a9167ec8e65a18debbe")
        XCTAssertEqual(hex(StandardPayload.make(index: 500_000, size: 12)), "08215a9eadb4cf08d12cd3d2")
    }

    func testMatchesAcceptsPrefixesAndRejectsAnyFlip() {
        let payload = StandardPayload.make(index: 77, size: 29)
        for size in 0...29 {
            XCTAssertTrue(payload.withUnsafeBytes { StandardPayload.matches(index: 77, bytes: .init(rebasing: $0[0..<size])) })
        }
        for position in 0..<29 {
            var flipped = payload
            flipped[position] ^= 0x10
            XCTAssertFalse(flipped.withUnsafeBytes { StandardPayload.matches(index: 77, bytes: $0) }, "flip at \(position)")
        }
        XCTAssertFalse(payload.withUnsafeBytes { StandardPayload.matches(index: 78, bytes: $0) })
    }
}
