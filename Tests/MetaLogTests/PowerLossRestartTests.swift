import Foundation
@testable import MetaLog
import XCTest

/// A process kill, a restart, then a power cut. The kill keeps the page cache, so the restarted process
/// opens files and names that are not yet durable (frames written but not synced, a segment or hard-state
/// rename whose directory fsync never ran). Whatever the restarted process reports as durable
/// (`durableIndex`, `hardState`) and whatever it acknowledges afterwards must survive the power cut:
/// this is what opening's own fdatasync and directory fsync are for, and the plain power-loss scenarios
/// (whose crash states are all durable when opened) cannot see them.
final class PowerLossRestartTests: XCTestCase {
    static let segmentBytes = 8192

    /// Manual appends, syncs, hard states and rotations, killed at every operation; each restart opens the
    /// page-cache state, appends one entry, and every power-loss crash state of the combined history must
    /// keep what the restarted process saw as durable and what it acknowledged.
    func testKillThenRestartThenPowerLoss() throws {
        let scratch = PowerLossChecker.scratchRoot(self)
        let run = PowerLossRun(root: scratch + "/run")
        try FileManager.default.createDirectory(atPath: run.root, withIntermediateDirectories: true)
        do {
            let log = try Log(directory: run.directory, options: run.options(.manual, segmentBytes: Self.segmentBytes))
            for round in 0..<24 {
                try run.append(log, count: 1 + round % 3, term: 1 + UInt64(round / 8), size: 200 + (round * 41) % 600, manual: true)
                if round % 3 == 2 { try log.sync() }
                if round % 4 == 1 {
                    try log.saveHardState(HardState(term: 1 + UInt64(round / 8), vote: UInt64(round), commit: log.durableIndex))
                }
            }
            XCTAssertGreaterThan(log.segmentCount, 3)
        }
        let ops = run.fs.recorded
        let firstNewInode = 1_000_000
        var model = CrashStates(root: run.root)
        var rng = SplitMix64(state: 8)
        var killed = 0
        var states = 0
        var failures: [String] = []
        for position in 0...ops.count {
            // Kill points: after every operation that leaves something pending (sampled to keep it quick).
            if model.hasPending && (position == ops.count || Int.random(in: 0..<2, using: &rng) == 0) {
                killed += 1
                var problems: [String] = []
                states += restartThenPowerLoss(model, run: run, scratch: scratch, firstNewInode: firstNewInode, rng: &rng,
                                               problems: &problems)
                if !problems.isEmpty { failures.append("killed after op \(position)/\(ops.count): " + problems.joined(separator: "; ")) }
                if failures.count >= 3 { break }
            }
            guard position < ops.count else { break }
            if case .mark = ops[position] { continue }
            model.apply(ops[position])
        }
        XCTAssertEqual(failures, [])
        print("PowerLossRestartTests: \(killed) kill points, \(states) crash states from \(ops.count) operations")
        XCTAssertGreaterThan(killed, 40)
    }

    /// Restarts from the page-cache state of `killedModel`, then checks crash states right after open and
    /// after one acknowledged append. Returns the number of crash states checked.
    private func restartThenPowerLoss(_ killedModel: CrashStates, run: PowerLossRun, scratch: String, firstNewInode: Int,
                                      rng: inout SplitMix64, problems: inout [String]) -> Int {
        // The files the restarted process finds: everything written, durable or not.
        var model = killedModel
        CrashStates.materialize(model.crashState(.all, &rng), root: run.root, target: run.root)
        let fs = RecordingFileSystem()
        fs.adopt(model.volatileNames, firstNewInode: firstNewInode)
        var options = LogOptions(segmentBytes: Self.segmentBytes, durability: .syncEveryAppend)
        options.fileSystem = fs
        let log: Log
        do { log = try Log(directory: run.directory, options: options) } catch {
            problems.append("restart failed: \(error)")
            return 0
        }
        defer { try? log.close() }
        // What the restarted process may act on: entries through durableIndex and the hard state.
        let first = log.firstIndex
        let durable = log.durableIndex
        let hard = log.hardState
        let seen = first <= durable ? ((try? log.read(from: first, maxCount: Int(durable - first + 1))).map { PowerLossChecker.batchPayloads($0) } ?? []) : []
        var checked = 0
        for op in fs.recorded { model.apply(op) }
        checked += powerLoss(model, run: run, scratch: scratch, first: first, expected: seen, hard: hard, rng: &rng,
                             label: "after open", problems: &problems)
        guard problems.isEmpty else { return checked }
        let next = log.lastIndex + 1
        var batch = EntryBatch()
        batch.append(term: hard.term, payload: [0xAC, 0x4B, UInt8(truncatingIfNeeded: next)])
        let before = fs.recorded.count
        do { try log.append(batch, at: next, hardState: nil) } catch {
            problems.append("append after restart failed: \(error)")
            return checked
        }
        for op in fs.recorded[before...] { model.apply(op) }
        let acked = (try? log.read(from: first)).map { PowerLossChecker.batchPayloads($0) } ?? []
        checked += powerLoss(model, run: run, scratch: scratch, first: first, expected: acked, hard: hard, rng: &rng,
                             label: "after the acknowledged append of \(next)", problems: &problems)
        return checked
    }

    /// Opens crash states of `model` (nothing pending kept, all of it, and random mixes): each must hold
    /// `expected` from `first` on and the hard state `hard`.
    private func powerLoss(_ model: CrashStates, run: PowerLossRun, scratch: String, first: UInt64, expected: [[UInt8]],
                           hard: HardState, rng: inout SplitMix64, label: String, problems: inout [String]) -> Int {
        var checked = 0
        for choice in [CrashStates.Choice.none, .all, .pages, .prefix, .tornLast, .subset] {
            let target = scratch + "/state"
            CrashStates.materialize(model.crashState(choice, &rng), root: run.root, target: target)
            checked += 1
            do {
                let log = try Log(directory: target + "/log", options: LogOptions(segmentBytes: Self.segmentBytes))
                defer { try? log.close() }
                if log.hardState != hard { problems.append("power cut \(label) (\(choice)): hard state \(log.hardState), the restarted process saw \(hard)") }
                let end = first + UInt64(expected.count)
                if !expected.isEmpty && (log.firstIndex != first || log.lastIndex < end - 1) {
                    problems.append("power cut \(label) (\(choice)): log \(log.firstIndex)...\(log.lastIndex), the restarted process had \(first)...\(end - 1) durable")
                } else if !expected.isEmpty {
                    let got = (try? log.read(from: first, maxCount: expected.count)).map { PowerLossChecker.batchPayloads($0) } ?? []
                    if got != expected { problems.append("power cut \(label) (\(choice)): entries differ from what the restarted process had durable") }
                }
            } catch {
                problems.append("power cut \(label) (\(choice)): open failed: \(error)")
            }
            if !problems.isEmpty { break }
        }
        return checked
    }
}
