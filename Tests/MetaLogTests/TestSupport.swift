import Foundation
@testable import MetaLog
import XCTest

/// A fresh temporary directory, removed when the test ends. On tmpfs (/dev/shm) when there is one: the
/// tests open logs thousands of times and fsync is free there; power loss is modelled by the crash-state
/// tests, not by the disk.
func makeTemporaryDirectory(_ test: XCTestCase, _ name: String = #function) -> String {
    let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : FileManager.default.temporaryDirectory.path
    let path = base + "/metalog-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path + "/log"
}

/// Payload of entry `index` in tests: the standard payload at a size that varies with the index.
func testPayload(_ index: UInt64, size: Int? = nil) -> [UInt8] {
    StandardPayload.make(index: index, size: size ?? Int(index % 37) + 1)
}

/// A batch of entries `first..<first+count` with `testPayload` and the given term.
func makeBatch(first: UInt64, count: Int, term: UInt64 = 1, size: Int? = nil) -> EntryBatch {
    var batch = EntryBatch()
    for i in 0..<UInt64(count) {
        batch.append(term: term, kind: UInt8(truncatingIfNeeded: first + i), payload: testPayload(first + i, size: size))
    }
    return batch
}

/// Segment file names in `directory`, sorted.
func segmentFiles(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
}

/// The spare files (`spare-*.tmp`, segment recycling) in `directory`, sorted by name.
func spareFiles(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("spare-") }.sorted()
}

func readFile(_ path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path) ?? Data()) }

func writeFile(_ path: String, _ bytes: [UInt8]) {
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

/// Asserts `body` throws exactly `expected`.
func assertThrows<T>(_ expected: LogError, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected \(expected), nothing thrown", file: file, line: line)
    } catch let error as LogError {
        XCTAssertEqual(error, expected, file: file, line: line)
    } catch {
        XCTFail("expected \(expected), got \(error)", file: file, line: line)
    }
}

/// The corruption error `body` throws (fails the test if it throws something else or nothing).
func corruption<T>(file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T)
    -> (file: String, offset: Int64, index: UInt64?)?
{
    do {
        _ = try body()
        XCTFail("expected a corruption error, nothing thrown", file: file, line: line)
    } catch let LogError.corruption(name, offset, index, _) {
        return (name, offset, index)
    } catch {
        XCTFail("expected a corruption error, got \(error)", file: file, line: line)
    }
    return nil
}

/// Checks that the log holds exactly entries `first...last` with `testPayload`-style content recorded in
/// `model` (index -> (term, payload)).
func assertLog(_ log: Log, equals model: [UInt64: (term: UInt64, payload: [UInt8])], first: UInt64, last: UInt64,
               file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertEqual(log.firstIndex, first, "firstIndex", file: file, line: line)
    XCTAssertEqual(log.lastIndex, last, "lastIndex", file: file, line: line)
    if first <= last {
        let batch = try log.read(from: first)
        XCTAssertEqual(batch.count, Int(last - first + 1), file: file, line: line)
        for position in 0..<batch.count {
            let header = batch.header(at: position)
            let index = first + UInt64(position)
            XCTAssertEqual(header.index, index, file: file, line: line)
            guard let expected = model[index] else { XCTFail("model lacks \(index)", file: file, line: line); return }
            XCTAssertEqual(header.term, expected.term, file: file, line: line)
            batch.withPayload(at: position) { XCTAssertEqual([UInt8]($0), expected.payload, "payload of \(index)", file: file, line: line) }
        }
    }
}

/// A thread-safe counter for concurrent tests.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// Runs `body(i)` for i in 0..<count on `count` separate threads (not limited to the CPU count, unlike
/// `concurrentPerform`) and waits for all of them.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchSemaphore(value: 0)
    for i in 0..<count {
        Thread.detachNewThread {
            body(i)
            done.signal()
        }
    }
    for _ in 0..<count { done.wait() }
}
