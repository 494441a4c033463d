import XCTest

@testable import MetaInflux
import MetaFSM

/// The name indexes against a linear first-match scan (InfluxDB's look-up), under random churn.
final class NameIndexTests: XCTestCase {
    func testLookupsMatchLinearScanUnderChurn() {
        var rng = SplitMix(seed: 7)
        var s = InfluxStore()
        for step in 0..<4000 {
            let name = "n\(rng.next() % 60)"
            switch rng.next() % 7 {
            case 0, 1: _ = s.apply(.createUser(name: name, hash: "h", admin: false), now: 0)
            case 2: _ = s.apply(.dropUser(name: name), now: 0)
            case 3: _ = s.apply(.createDatabase(name: name, retentionPolicy: nil), now: 0)
            case 4: _ = s.apply(.dropDatabase(name: name), now: 0)
            case 5 where step % 500 == 0:
                // Duplicate names can only come in through SetData (or a file).
                var d = s.data
                d.users += d.users.prefix(3)
                d.databases += d.databases.prefix(2)
                _ = s.apply(.setData(d), now: 0)
            default: break
            }
            for probe in 0..<60 {
                let p = "n\(probe)"
                XCTAssertEqual(s.userIndex(p), s.data.users.firstIndex { $0.name == p }, "user \(p) at step \(step)")
                XCTAssertEqual(s.databaseIndex(p), s.data.databases.firstIndex { $0.name == p }, "db \(p) at step \(step)")
            }
        }
    }
}
