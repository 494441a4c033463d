import Foundation
import XCTest
import MetaKV

/// Replays every visible case of Fixtures/etcd (a real etcd 3.4.23's answers) and demands every response
/// line and the final state, byte for byte in the canonical JSON.
final class ConformanceTests: XCTestCase {
    func testEveryVisibleCase() throws {
        let names = KVFixtures.names()
        XCTAssertEqual(names.count, 34, "expected the 34 visible streams in Fixtures/etcd")
        var commands = 0, rejected = 0
        for name in names {
            let (lines, machine) = try KVFixtures.replay(name)
            let expected = try KVFixtures.expectedLines(name)
            XCTAssertEqual(lines.count, expected.count, "\(name): line count")
            for (i, (got, want)) in zip(lines, expected).enumerated() where got != want {
                XCTFail("\(name) command \(i + 1):\n got  \(got)\n want \(want)")
                break
            }
            XCTAssertEqual(KVJSON.state(machine.store), try KVFixtures.expectedState(name), "\(name): final state")
            XCTAssertEqual(machine.appliedIndex, UInt64(expected.count))
            commands += lines.count
            rejected += lines.filter { $0.hasPrefix("{\"error\":") }.count
        }
        XCTAssertEqual(commands, 7946)
        XCTAssertEqual(rejected, 297)
    }

    /// More cases generated with the oracle (not committed): set METAKV_EXTRA_CASES to their directory.
    func testExtraCasesWhenPresent() throws {
        guard let dir = ProcessInfo.processInfo.environment["METAKV_EXTRA_CASES"] else {
            throw XCTSkip("METAKV_EXTRA_CASES not set")
        }
        let url = URL(fileURLWithPath: dir)
        var failures = 0
        let names = KVFixtures.names(in: url)
        for name in names {
            let (lines, machine) = try KVFixtures.replay(name, in: url)
            let expected = try KVFixtures.expectedLines(name, in: url)
            let state = try KVFixtures.expectedState(name, in: url)
            var ok = lines == expected && KVJSON.state(machine.store) == state
            if !ok, let i = zip(lines, expected).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                XCTFail("\(name) command \(i + 1):\n got  \(lines[i])\n want \(expected[i])")
                ok = false
            } else if !ok { XCTFail("\(name): state or line count differs") }
            if !ok { failures += 1 }
        }
        print("METAKV_EXTRA_CASES: \(names.count) cases, \(failures) failed")
    }
}
