import Foundation
@testable import MetaLog
import XCTest

/// What a scenario did, as the crash-state checker needs it: operations issued and acknowledged.
enum PowerLossEvent {
    case appendIssued(id: Int, at: UInt64?, terms: [UInt64], payloads: [[UInt8]], hard: HardState?)
    /// Manual durability: written (indexes known), durable only after the next acknowledged sync.
    case appendReturned(id: Int, range: ClosedRange<UInt64>)
    case appendAcked(id: Int, range: ClosedRange<UInt64>)
    case truncateIssued(after: UInt64)
    case truncateAcked(after: UInt64)
    case prefixIssued(through: UInt64)
    case prefixAcked(through: UInt64)
    case hardIssued(HardState)
    case hardAcked(HardState)
    case resetIssued(after: UInt64, term: UInt64)
    case resetAcked(after: UInt64, term: UInt64)
    case syncAcked
}

/// A recorded run: the log under test writes through a `RecordingFileSystem`; the scenario reports events.
final class PowerLossRun: @unchecked Sendable {
    let root: String
    let directory: String
    let fs = RecordingFileSystem()
    private let lock = NSLock()
    private(set) var events: [PowerLossEvent] = []
    private var nextId = 0
    private var nextPayload: UInt64 = 1

    init(root: String) {
        self.root = root
        directory = root + "/log"
    }

    /// Records `event` at this point of the operation stream.
    func event(_ event: PowerLossEvent) {
        lock.withLock {
            fs.mark(events.count)
            events.append(event)
        }
    }

    func newId() -> Int { lock.withLock { nextId += 1; return nextId } }

    /// A payload no other entry of the run has (8-byte id, then filler).
    func uniquePayload(size: Int) -> [UInt8] {
        let id = lock.withLock { () -> UInt64 in nextPayload += 1; return nextPayload }
        return withUnsafeBytes(of: id.littleEndian) { Array($0) } + StandardPayload.make(index: id, size: max(0, size))
    }

    func options(_ durability: Durability, segmentBytes: Int) -> LogOptions {
        var options = LogOptions(segmentBytes: segmentBytes, durability: durability)
        options.fileSystem = fs
        return options
    }

    /// Appends `count` new entries (at the end, or at `at` for a Raft append), reporting issue and ack.
    @discardableResult
    func append(_ log: Log, count: Int, term: UInt64, size: Int, at: UInt64? = nil, hard: HardState? = nil,
                manual: Bool = false) throws -> ClosedRange<UInt64> {
        var batch = EntryBatch()
        var payloads: [[UInt8]] = []
        for _ in 0..<count {
            let payload = uniquePayload(size: size)
            payloads.append(payload)
            batch.append(term: term, payload: payload)
        }
        let id = newId()
        event(.appendIssued(id: id, at: at, terms: Array(repeating: term, count: count), payloads: payloads, hard: hard))
        let range: ClosedRange<UInt64>
        if let at { range = try log.append(batch, at: at, hardState: hard) } else { range = try log.append(batch) }
        event(manual ? .appendReturned(id: id, range: range) : .appendAcked(id: id, range: range))
        return range
    }
}

/// What must hold after a crash at some point of a run: the acknowledged state plus what operations in
/// flight may have added or removed.
struct PowerLossExpectation {
    var acked: [UInt64: (term: UInt64, payload: [UInt8])] = [:]
    var first: UInt64 = 1
    var last: UInt64 = 0
    var hard = HardState()
    var firsts: Set<UInt64> = [1]
    var hards: [HardState] = [HardState()]
    /// The lowest last index an operation in flight (truncate, conflict, reset) may leave.
    var lowLast: UInt64?
    var allowed: [UInt64: [[UInt8]]] = [:]
    var anywhere: Set<[UInt8]> = []
    var issued: [Int: (at: UInt64?, terms: [UInt64], payloads: [[UInt8]], hard: HardState?)] = [:]
    var returned: [(id: Int, range: ClosedRange<UInt64>)] = []
    var boundary: (index: UInt64, term: UInt64)?

    mutating func apply(_ event: PowerLossEvent) {
        switch event {
        case let .appendIssued(id, at, terms, payloads, hard):
            issued[id] = (at, terms, payloads, hard)
            if let at {
                for (k, payload) in payloads.enumerated() { allowed[at + UInt64(k), default: []].append(payload) }
                if at <= last { lowLast = min(lowLast ?? last, at - 1) }
            } else {
                anywhere.formUnion(payloads)
            }
            if let hard { hards.append(hard) }
        case let .appendReturned(id, range):
            returned.append((id, range))
            if let request = issued[id] {
                for (k, payload) in request.payloads.enumerated() { allowed[range.lowerBound + UInt64(k), default: []].append(payload) }
            }
        case let .appendAcked(id, range):
            ack(id, range)
        case .syncAcked:
            for (id, range) in returned { ack(id, range) }
            returned = []
        case let .truncateIssued(after):
            lowLast = min(lowLast ?? last, after)
        case let .truncateAcked(after):
            for index in acked.keys where index > after { acked[index] = nil }
            for index in allowed.keys where index > after { allowed[index] = nil }
            anywhere = []
            last = min(last, after)
            lowLast = nil
        case let .prefixIssued(through):
            firsts.insert(through + 1)
        case let .prefixAcked(through):
            if through >= first {
                for index in acked.keys where index <= through { acked[index] = nil }
                first = through + 1
                last = max(last, through)
            }
            firsts = [first]
        case let .hardIssued(state):
            hards.append(state)
        case let .hardAcked(state):
            hard = state
            hards = [state]
        case let .resetIssued(after, _):
            firsts.insert(after + 1)
            lowLast = min(lowLast ?? last, after)
        case let .resetAcked(after, term):
            acked = [:]
            allowed = [:]
            anywhere = []
            first = after + 1
            last = after
            firsts = [first]
            lowLast = nil
            boundary = (after, term)
        }
    }

    private mutating func ack(_ id: Int, _ range: ClosedRange<UInt64>) {
        guard let request = issued.removeValue(forKey: id) else { return }
        if range.lowerBound <= last {
            for index in acked.keys where index >= range.lowerBound { acked[index] = nil }
            last = range.lowerBound - 1
        }
        for (k, payload) in request.payloads.enumerated() {
            acked[range.lowerBound + UInt64(k)] = (request.terms[k], payload)
        }
        last = max(last, range.upperBound)
        if let hard = request.hard {
            self.hard = hard
            hards = [hard]
        }
        if !issued.values.contains(where: { $0.at != nil && $0.at! <= last }) { lowLast = nil }
    }

    /// Checks a recovered log against the expectation; returns the problems found (empty when it holds).
    func check(_ log: Log) -> [String] {
        var problems: [String] = []
        let logFirst = log.firstIndex
        let logLast = log.lastIndex
        if !firsts.contains(logFirst) { problems.append("firstIndex \(logFirst), expected one of \(firsts.sorted())") }
        let minimum = min(last, lowLast ?? last)
        if logLast < minimum && !(logFirst > first && logLast + 1 == logFirst) {
            problems.append("lastIndex \(logLast) < \(minimum): acknowledged entries lost")
        }
        if !hards.contains(log.hardState) { problems.append("hard state \(log.hardState), expected one of \(hards)") }
        if let boundary, logFirst == boundary.index + 1, (try? log.term(at: boundary.index)) != boundary.term {
            problems.append("boundary term at \(boundary.index) is not \(boundary.term)")
        }
        guard logFirst <= logLast else { return problems }
        do {
            let batch = try log.read(from: logFirst)
            if batch.count != Int(logLast - logFirst + 1) { problems.append("read \(batch.count) entries of \(logLast - logFirst + 1)") }
            for position in 0..<batch.count {
                let index = logFirst + UInt64(position)
                let header = batch.header(at: position)
                let payload = batch.withPayload(at: position) { [UInt8]($0) }
                if (try? log.term(at: index)) != header.term { problems.append("term(at: \(index)) differs from the frame") }
                if let expected = acked[index], index >= first {
                    if payload == expected.payload && header.term == expected.term { continue }
                    if lowLast != nil && (allowed[index]?.contains(payload) ?? false) { continue }
                    problems.append("entry \(index) differs from the acknowledged one")
                } else if !(allowed[index]?.contains(payload) ?? false) && !anywhere.contains(payload) {
                    problems.append("entry \(index) was never appended in flight here (payload id \(payload.prefix(8)))")
                }
                if problems.count > 5 { break }
            }
        } catch {
            problems.append("read failed: \(error)")
        }
        return problems
    }
}

/// Replays a recorded run into crash states and checks each; returns how many states were checked.
enum PowerLossChecker {
    /// Scratch space on tmpfs when there is one (crash states are many small files; fsync is free there).
    static func scratchRoot(_ test: XCTestCase) -> String {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : FileManager.default.temporaryDirectory.path
        let path = base + "/metalog-power-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Crash points: just before and just after every sync, plus `randomPoints` others; at each, the
    /// durable state and up to `variants` random choices of what pending operations reached the disk.
    /// Returns the states checked and, with `rotateAfterRecovery`, how many of them rotated into spares
    /// that opening kept.
    static func run(_ run: PowerLossRun, scratch: String, segmentBytes: Int, randomPoints: Int = 60, variants: Int = 3,
                    seed: UInt64, recoveryCrashes: Int = 0, maxStates: Int = 1500, rotateAfterRecovery: Bool = false,
                    file: StaticString = #filePath, line: UInt = #line) -> (states: Int, rotatedIntoSpares: Int) {
        let ops = run.fs.recorded
        var points = Set<Int>()
        for (position, op) in ops.enumerated() where op.isSync {
            points.insert(position)
            points.insert(position + 1)
        }
        var rng = SplitMix64(state: seed)
        for _ in 0..<randomPoints { points.insert(Int.random(in: 0...ops.count, using: &rng)) }
        points.insert(ops.count)
        var model = CrashStates(root: run.root)
        var expectation = PowerLossExpectation()
        var checked = 0
        var rotatedIntoSpares = 0  // states whose appends after recovery went into spares opening kept
        var failures = 0
        var recoveryLeft = recoveryCrashes
        for position in 0...ops.count {
            if points.contains(position) && checked < maxStates {
                var choices: [CrashStates.Choice] = [.none]
                if model.hasPending {
                    choices.append(.all)
                    for _ in 0..<variants { choices.append([.prefix, .pages, .tornLast, .subset].randomElement(using: &rng)!) }
                }
                for choice in choices {
                    let state = model.crashState(choice, &rng)
                    let target = scratch + "/state"
                    CrashStates.materialize(state, root: run.root, target: target)
                    var recycled = 0
                    let problems = checkState(target + "/log", expectation, segmentBytes: segmentBytes,
                                              recoveryCrash: recoveryLeft > 0 && choice != .none ? (scratch, seed &+ UInt64(position)) : nil,
                                              rotate: rotateAfterRecovery, recycled: &recycled)
                    if recycled > 0 { rotatedIntoSpares += 1 }
                    if recoveryLeft > 0 && choice != .none { recoveryLeft -= 1 }
                    checked += 1
                    if !problems.isEmpty {
                        failures += 1
                        if failures <= 3 {
                            XCTFail("crash after op \(position)/\(ops.count) (\(choice)): \(problems.joined(separator: "; "))", file: file, line: line)
                        }
                    }
                }
            }
            guard position < ops.count else { break }
            if case let .mark(number) = ops[position] {
                expectation.apply(run.events[number])
            } else {
                model.apply(ops[position])
            }
        }
        if failures > 3 { XCTFail("\(failures) crash states failed in all", file: file, line: line) }
        return (checked, rotatedIntoSpares)
    }

    /// Opens the crash state at `directory`, checks it, appends one entry, reopens and checks again.
    /// With `recoveryCrash`, also records that first recovery and checks crash states of it. With `rotate`,
    /// the appends after recovery go on through two rotations (into whatever spares opening kept: `recycled`
    /// counts the segments made in them) and every one of them is checked after the reopen.
    static func checkState(_ directory: String, _ expectation: PowerLossExpectation, segmentBytes: Int,
                           recoveryCrash: (scratch: String, seed: UInt64)?, rotate: Bool = false,
                           recycled: inout Int) -> [String] {
        var options = LogOptions(segmentBytes: segmentBytes, durability: .syncEveryAppend)
        var recorder: RecordingFileSystem?
        var base: CrashStates?
        if let recoveryCrash {
            // Everything on disk now is durable: the model starts from it.
            let fs = RecordingFileSystem()
            var names: [String: Int] = [:]
            var contents: [Int: [UInt8]] = [:]
            var directories: Set<String> = []
            if FileManager.default.fileExists(atPath: directory) {
                directories.insert(directory)
                for (k, name) in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted().enumerated() {
                    names[directory + "/" + name] = k + 1
                    contents[k + 1] = [UInt8](FileManager.default.contents(atPath: directory + "/" + name) ?? Data())
                }
            }
            fs.adopt(names)
            recorder = fs
            base = CrashStates(root: CrashStates.parent(directory), names: names, contents: contents, directories: directories)
            options.fileSystem = fs
            _ = recoveryCrash
        }
        let log: Log
        do { log = try Log(directory: directory, options: options) } catch { return ["open failed: \(error)"] }
        var problems = expectation.check(log)
        guard problems.isEmpty else { return problems }
        let recovered = (log.firstIndex, log.lastIndex, log.hardState, (try? log.read(from: log.firstIndex)).map { batchPayloads($0) } ?? [])
        if let recorder, var base, let recoveryCrash {
            // A crash during recovery: every crash state of what opening wrote must reopen to the same log.
            try? log.close()
            let ops = recorder.recorded
            var rng = SplitMix64(state: recoveryCrash.seed)
            for position in 0...ops.count {
                if position == ops.count || ops[position].isSync || Int.random(in: 0..<4, using: &rng) == 0 {
                    for choice in [CrashStates.Choice.none, .all, .pages, .tornLast] {
                        let state = base.crashState(choice, &rng)
                        let target = recoveryCrash.scratch + "/recovery"
                        CrashStates.materialize(state, root: CrashStates.parent(directory), target: target)
                        do {
                            let again = try Log(directory: target + "/log", options: LogOptions(segmentBytes: segmentBytes))
                            let now = (again.firstIndex, again.lastIndex, again.hardState,
                                       (try? again.read(from: again.firstIndex)).map { batchPayloads($0) } ?? [])
                            if now.0 != recovered.0 || now.1 != recovered.1 || now.2 != recovered.2 || now.3 != recovered.3 {
                                problems.append("a crash during recovery (op \(position), \(choice)) changed the log: "
                                    + "\(now.0)...\(now.1) instead of \(recovered.0)...\(recovered.1)")
                            }
                            try? again.close()
                        } catch {
                            problems.append("a crash during recovery (op \(position), \(choice)): open failed: \(error)")
                        }
                        if !problems.isEmpty { return problems }
                    }
                }
                if position < ops.count { base.apply(ops[position]) }
            }
            return problems
        }
        // The recovered log accepts appends, and recovery from that works too.
        let next = log.lastIndex + 1
        let term = (try? log.term(at: log.lastIndex)) ?? 0
        var added: [[UInt8]] = [[0xEE, 1, 2, 3]]
        do {
            var batch = EntryBatch()
            batch.append(term: term, payload: added[0])
            try log.append(batch, at: next, hardState: nil)
            if rotate {
                let segments = log.segmentCount
                while log.segmentCount < segments + 2 && added.count < 200 {
                    let payload = testPayload(next + UInt64(added.count), size: 600)
                    var one = EntryBatch()
                    one.append(term: term, payload: payload)
                    try log.append(one, at: next + UInt64(added.count), hardState: nil)
                    added.append(payload)
                }
                recycled = log.recycledSegmentsForTesting
            }
            try log.close()
            let end = next + UInt64(added.count) - 1
            let reopened = try Log(directory: directory, options: LogOptions(segmentBytes: segmentBytes))
            if reopened.lastIndex != end || reopened.firstIndex != recovered.0 || reopened.hardState != recovered.2 {
                problems.append("after appending \(next)...\(end) and reopening: \(reopened.firstIndex)...\(reopened.lastIndex)")
            }
            for (k, payload) in added.enumerated() where (try? reopened.entry(at: next + UInt64(k)).payload) != payload {
                problems.append("after append + reopen: entry \(next + UInt64(k)) does not read back")
                break
            }
            var again = expectation
            for (k, payload) in added.enumerated() { again.allowed[next + UInt64(k), default: []].append(payload) }
            problems += again.check(reopened).map { "after append + reopen: " + $0 }
            try reopened.close()
        } catch {
            problems.append("append after recovery failed: \(error)")
        }
        return problems
    }

    static func batchPayloads(_ batch: EntryBatch) -> [[UInt8]] {
        (0..<batch.count).map { position in batch.withPayload(at: position) { [UInt8]($0) } }
    }
}
