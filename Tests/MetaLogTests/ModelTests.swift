@testable import MetaLog
import XCTest

/// Thousands of random operations against an in-memory model, checked after every step.
final class ModelTests: XCTestCase {
    /// A small deterministic generator so failures replay.
    typealias SplitMix = SplitMix64

    struct Model {
        var entries: [UInt64: (term: UInt64, kind: UInt8, payload: [UInt8])] = [:]
        var first: UInt64 = 1
        var last: UInt64 = 0
        var term: UInt64 = 1
        var hard = HardState()
    }

    private func check(_ log: Log, _ model: Model, _ step: Int, _ rng: inout SplitMix) throws {
        XCTAssertEqual(log.firstIndex, model.first, "step \(step)")
        XCTAssertEqual(log.lastIndex, model.last, "step \(step)")
        XCTAssertEqual(log.hardState, model.hard, "step \(step)")
        if model.first > model.last {
            assertThrows(.unavailable(index: model.first, lastIndex: model.last)) { try log.read(from: model.first) }
        } else {
            let batch = try log.read(from: model.first)
            XCTAssertEqual(batch.count, Int(model.last - model.first + 1), "step \(step)")
            for position in 0..<batch.count {
                let index = model.first + UInt64(position)
                let expected = try XCTUnwrap(model.entries[index], "step \(step) index \(index)")
                XCTAssertEqual(batch.header(at: position), EntryHeader(index: index, term: expected.term, kind: expected.kind), "step \(step)")
                batch.withPayload(at: position) { XCTAssertEqual([UInt8]($0), expected.payload, "step \(step) index \(index)") }
            }
            let index = UInt64.random(in: model.first...model.last, using: &rng)
            let entry = try log.entry(at: index)
            XCTAssertEqual(entry.payload, model.entries[index]?.payload)
            XCTAssertEqual(try log.term(at: index), model.entries[index]?.term)
        }
        if model.first > 1 {
            assertThrows(.compacted(index: model.first - 1, firstIndex: model.first)) { try log.entry(at: model.first - 1) }
        }
        assertThrows(.unavailable(index: model.last + 1, lastIndex: model.last)) { try log.entry(at: model.last + 1) }
    }

    private func run(seed: UInt64, durability: Durability, steps: Int) throws {
        var rng = SplitMix(state: seed)
        let directory = makeTemporaryDirectory(self)
        let options = LogOptions(segmentBytes: 4096, durability: durability)
        var log: Log! = try Log(directory: directory, options: options)
        var model = Model()
        var reopens = 0
        var maxSegments = 0
        for step in 0..<steps {
            let op = Int.random(in: 0..<100, using: &rng)
            switch op {
            case 0..<55:  // append
                var batch = EntryBatch()
                let count = Int.random(in: 1...8, using: &rng)
                if Int.random(in: 0..<10, using: &rng) == 0 { model.term += 1 }
                var pending: [(UInt64, UInt8, [UInt8])] = []
                for k in 0..<count {
                    let size = Int.random(in: 0..<10, using: &rng) == 0 ? Int.random(in: 0...1500, using: &rng) : Int.random(in: 0...120, using: &rng)
                    let payload = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    let kind = UInt8.random(in: 0...3, using: &rng)
                    batch.append(term: model.term, kind: kind, payload: payload)
                    pending.append((model.last + 1 + UInt64(k), kind, payload))
                }
                let range = Bool.random(using: &rng) ? try log.append(batch) : try log.append(batch, at: model.last + 1)
                XCTAssertEqual(range, (model.last + 1)...(model.last + UInt64(count)))
                for (index, kind, payload) in pending { model.entries[index] = (model.term, kind, payload) }
                model.last += UInt64(count)
            case 55..<65:  // truncate
                let index = UInt64.random(in: (model.first - 1)...model.last, using: &rng)
                try log.truncate(after: index)
                for i in (index + 1)..<max(index + 1, model.last + 1) { model.entries[i] = nil }
                model.last = min(model.last, index)
            case 65..<72:  // removePrefix, sometimes past the end
                let index = UInt64.random(in: (model.first - 1)...(model.last + 3), using: &rng)
                try log.removePrefix(through: index)
                if index >= model.first {
                    for i in model.first...index { model.entries[i] = nil }
                    model.first = index + 1
                    model.last = max(model.last, index)
                }
            case 72..<78:  // reopen
                try log.close()
                log = try Log(directory: directory, options: options)
                XCTAssertNil(log.recovery.tornTail)
                reopens += 1
            case 78..<82:  // a process crash: no close (written data stays in the page cache)
                log = nil
                log = try Log(directory: directory, options: options)
                XCTAssertNil(log.recovery.tornTail)
                reopens += 1
            case 82..<88:
                try log.sync()
            case 88..<92:
                model.hard = HardState(term: model.term, vote: UInt64.random(in: 0...5, using: &rng), commit: model.last,
                                       context: (0..<Int.random(in: 0...20, using: &rng)).map { UInt8($0) })
                try log.saveHardState(model.hard)
            default:  // append of a batch built by a read (re-appending what another log sent)
                if model.first <= model.last && model.last - model.first < 2000 {
                    let from = UInt64.random(in: model.first...model.last, using: &rng)
                    let read = try log.read(from: from, maxCount: 5, maxBytes: 400)
                    XCTAssertGreaterThan(read.count, 0)
                    try log.append(read)
                    for position in 0..<read.count {
                        let source = try XCTUnwrap(model.entries[from + UInt64(position)])
                        model.entries[model.last + 1 + UInt64(position)] = source
                    }
                    model.last += UInt64(read.count)
                }
            }
            try check(log, model, step, &rng)
            maxSegments = max(maxSegments, log.segmentCount)
        }
        XCTAssertGreaterThan(reopens, 10)
        XCTAssertGreaterThan(maxSegments, 3, "rotation was exercised")
        try log.close()
        let report = try LogInspector.verify(directory: directory)
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.firstIndex, model.first)
        XCTAssertEqual(report.lastIndex, model.last)
    }

    func testRandomOperationsSyncEveryAppend() throws { try run(seed: 1, durability: .syncEveryAppend, steps: 1500) }
    func testRandomOperationsManual() throws { try run(seed: 2, durability: .manual, steps: 1500) }
    func testRandomOperationsGroupCommit() throws { try run(seed: 3, durability: .groupCommit, steps: 1500) }
}
