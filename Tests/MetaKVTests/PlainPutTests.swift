import Foundation
import MetaFSM
@testable import MetaKV
import XCTest

/// Plain puts are applied from the entry's bytes (KVPlainPut.swift). Every entry below, plain or one that must
/// take the general path, gives the same answer and leaves the same state with that shortcut on and off.
final class PlainPutTests: XCTestCase {
    /// Protobuf bytes, written by hand so that odd shapes (repeats, explicit zeros, wrong wire types) can be made.
    private struct Proto {
        var bytes: [UInt8] = []
        mutating func varint(_ v: UInt64) {
            var v = v
            while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            bytes.append(UInt8(v))
        }
        mutating func tag(_ field: Int, _ wireType: Int) { varint(UInt64(field << 3 | wireType)) }
        mutating func field(_ field: Int, varint v: UInt64) { tag(field, 0); varint(v) }
        mutating func field(_ field: Int, bytes b: [UInt8]) { tag(field, 2); varint(UInt64(b.count)); bytes += b }
        mutating func field(_ field: Int, _ message: Proto) { self.field(field, bytes: message.bytes) }
    }

    private func put(_ fields: (inout Proto) -> Void) -> Proto {
        var p = Proto()
        fields(&p)
        return p
    }

    private func entry(header: Bool = true, _ build: (inout Proto) -> Void) -> [UInt8] {
        var e = Proto()
        build(&e)
        if header { e.field(100, put { $0.field(1, varint: 7) }) }
        return e.bytes
    }

    private func plainPut(_ key: String, _ value: String) -> [UInt8] {
        entry { $0.field(4, put { $0.field(1, bytes: k(key)); $0.field(2, bytes: k(value)) }) }
    }

    func testEveryShapeAnswersAsTheGeneralPath() throws {
        let leaseGrant = InternalRaftRequest(.leaseGrant(LeaseGrantRequest(ttl: 60, id: 5)), headerID: 1).encoded()
        var entries: [(String, [UInt8])] = [
            ("new key", plainPut("a", "1")),
            ("overwrite", plainPut("a", "2")),
            ("empty value", plainPut("b", "")),
            ("no header", entry(header: false) { $0.field(4, put { $0.field(1, bytes: k("c")); $0.field(2, bytes: k("3")) }) }),
            ("legacy id", entry { $0.field(1, varint: 99); $0.field(4, put { $0.field(1, bytes: k("c")); $0.field(2, bytes: k("4")) }) }),
            ("explicit zero lease and flags", entry { $0.field(4, put {
                $0.field(1, bytes: k("d")); $0.field(2, bytes: k("5")); $0.field(3, varint: 0); $0.field(4, varint: 0)
                $0.field(5, varint: 0); $0.field(6, varint: 0)
            }) }),
            ("header with user and auth revision and an unknown field", entry(header: false) {
                $0.field(100, put { $0.field(1, varint: 3); $0.field(2, bytes: k("root")); $0.field(3, varint: 9); $0.field(17, varint: 1) })
                $0.field(4, put { $0.field(1, bytes: k("e")); $0.field(2, bytes: k("6")) })
            }),
            ("unknown put field", entry { $0.field(4, put { $0.field(1, bytes: k("f")); $0.field(9, bytes: k("x")); $0.field(2, bytes: k("7")) }) }),
            ("repeated put messages merge", entry { $0.field(4, put { $0.field(1, bytes: k("g")) }); $0.field(4, put { $0.field(2, bytes: k("8")) }) }),
            ("repeated key: the last wins", entry { $0.field(4, put { $0.field(1, bytes: k("h")); $0.field(1, bytes: k("i")); $0.field(2, bytes: k("9")) }) }),
            ("lease grant", leaseGrant),
            ("put with a lease", entry { $0.field(4, put { $0.field(1, bytes: k("a")); $0.field(2, bytes: k("L")); $0.field(3, varint: 5) }) }),
            ("plain put detaches the key from its lease", plainPut("a", "10")),
            ("unknown lease", entry { $0.field(4, put { $0.field(1, bytes: k("z")); $0.field(2, bytes: k("L")); $0.field(3, varint: 6) }) }),
            ("prev_kv", entry { $0.field(4, put { $0.field(1, bytes: k("a")); $0.field(2, bytes: k("11")); $0.field(4, varint: 1) }) }),
            ("ignore_value", entry { $0.field(4, put { $0.field(1, bytes: k("a")); $0.field(5, varint: 1) }) }),
            ("ignore_lease", entry { $0.field(4, put { $0.field(1, bytes: k("a")); $0.field(2, bytes: k("12")); $0.field(6, varint: 1) }) }),
            ("ignore_value of a missing key", entry { $0.field(4, put { $0.field(1, bytes: k("nope")); $0.field(5, varint: 1) }) }),
            ("empty key", entry { $0.field(4, put { $0.field(2, bytes: k("v")) }) }),
            ("no key field", entry { $0.field(4, put { $0.field(2, bytes: k("v")) }) }),
            ("range and put: the range wins", entry { $0.field(3, put { $0.field(1, bytes: k("a")) }); $0.field(4, put { $0.field(1, bytes: k("q")) }) }),
            ("unknown top-level field", entry { $0.field(50, varint: 1); $0.field(4, put { $0.field(1, bytes: k("u")); $0.field(2, bytes: k("13")) }) }),
            ("wrong wire type for the key", entry { $0.field(4, put { $0.field(1, varint: 5) }) }),
            ("wrong wire type in the header", entry(header: false) { $0.field(100, put { $0.field(1, bytes: k("x")) }); $0.field(4, put { $0.field(1, bytes: k("a")) }) }),
            ("lease with the wrong wire type", entry { $0.field(4, put { $0.field(1, bytes: k("a")); $0.field(3, bytes: k("x")) }) }),
            ("delete, then a plain put starts a new generation", InternalRaftRequest(.deleteRange(DeleteRangeRequest(key: k("c"))), headerID: 2).encoded()),
            ("new generation", plainPut("c", "14")),
            ("too large", entry { $0.field(4, put { $0.field(1, bytes: k("big")); $0.field(2, bytes: [UInt8](repeating: 1, count: 300)) }) }),
        ]
        let full = plainPut("a", "15")
        for cut in 1..<full.count { entries.append(("truncated at \(cut)", Array(full[0..<cut]))) }
        entries.append(("empty entry", []))

        var options = KVOptions()
        options.maxRequestBytes = 200
        var fast = KVStateMachine(options: options)
        var general = KVStateMachine(options: options)
        general.plainPuts = false
        var plainTaken = 0
        for (n, (what, bytes)) in entries.enumerated() {
            let index = UInt64(n + 1)
            if bytes.withUnsafeBytes({ KVPlainPut.parse($0) }) != nil { plainTaken += 1 }
            let a = bytes.withUnsafeBytes { fast.apply(index: index, term: 1, payload: $0) }
            let b = bytes.withUnsafeBytes { general.apply(index: index, term: 1, payload: $0) }
            XCTAssertEqual(a, b, what)
            XCTAssertEqual(KVJSON.state(fast.store), KVJSON.state(general.store), what)
            XCTAssertEqual(fast.store.leaseKeys(5), general.store.leaseKeys(5), what)
        }
        XCTAssertGreaterThanOrEqual(plainTaken, 12, "the shortcut was taken")
        XCTAssertEqual(fast.store.get(k("g"))?.value, k("8"))
        XCTAssertEqual(fast.store.get(k("i"))?.value, k("9"))
        XCTAssertNil(fast.store.get(k("h")))
        XCTAssertEqual(fast.store.get(k("c"))?.version, 1, "a new generation after the delete")
        XCTAssertEqual(fast.store.leaseKeys(5), [], "the plain put took key a off lease 5")
    }
}
