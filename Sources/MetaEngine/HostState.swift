// The durable record the host keeps with the engine: term, vote, commit index and named host values, all in
// MetaLog's hard-state file (one atomic, checksummed record). The named values live in its context bytes:
//
// | bytes | field                                                         |
// |-------|---------------------------------------------------------------|
// | 1     | version (1)                                                   |
// | 4     | count of values (u32 LE)                                      |
// | each  | key length (u16 LE), key (UTF-8), value length (u32 LE), value |
//
// Keys starting with "engine." are reserved for the engine; a host uses any other.

import MetaLog

/// Term, vote, commit index and named host values, saved together atomically.
///
/// Named values carry what a transport keeps beside term and vote: Zab's accepted and current epoch,
/// hashicorp/raft's StableStore keys (`CurrentTerm`, `LastVoteTerm`, `LastVoteCand`), a cluster id.
public struct HostState: Sendable, Equatable {
    /// The current term (or epoch).
    public var term: UInt64
    /// Who this node voted for in `term` (0: nobody).
    public var vote: UInt64
    /// The highest index known committed.
    public var commit: UInt64
    /// Named opaque values.
    public var values: [String: [UInt8]]

    /// A host state (all zero and empty by default).
    public init(term: UInt64 = 0, vote: UInt64 = 0, commit: UInt64 = 0, values: [String: [UInt8]] = [:]) {
        self.term = term
        self.vote = vote
        self.commit = commit
        self.values = values
    }

    /// The MetaLog hard state holding this record.
    var hardState: HardState {
        HardState(term: term, vote: vote, commit: commit, context: Self.encode(values))
    }

    /// Decodes a MetaLog hard state; throws `.badHostState` naming the context offset that is wrong.
    init(_ hard: HardState) throws {
        self.init(term: hard.term, vote: hard.vote, commit: hard.commit, values: try Self.decode(hard.context))
    }

    static func encode(_ values: [String: [UInt8]]) -> [UInt8] {
        if values.isEmpty { return [] }
        var out: [UInt8] = [1]
        appendLE(&out, UInt64(values.count), bytes: 4)
        for key in values.keys.sorted() {
            let k = Array(key.utf8)
            let v = values[key] ?? []
            appendLE(&out, UInt64(k.count), bytes: 2)
            out += k
            appendLE(&out, UInt64(v.count), bytes: 4)
            out += v
        }
        return out
    }

    static func decode(_ bytes: [UInt8]) throws -> [String: [UInt8]] {
        if bytes.isEmpty { return [:] }
        guard bytes[0] == 1 else { throw EngineError.badHostState(offset: 0, reason: "unknown version \(bytes[0])") }
        var at = 1
        func take(_ n: Int, _ what: String) throws -> ArraySlice<UInt8> {
            guard n <= bytes.count - at else {
                throw EngineError.badHostState(offset: at, reason: "\(what) needs \(n) bytes, \(bytes.count - at) left")
            }
            defer { at += n }
            return bytes[at..<at + n]
        }
        func le(_ n: Int, _ what: String) throws -> Int {
            var v = 0
            for (i, b) in try take(n, what).enumerated() { v |= Int(b) << (8 * i) }
            return v
        }
        let count = try le(4, "value count")
        var values: [String: [UInt8]] = [:]
        for _ in 0..<count {
            let keyAt = at
            let k = try take(try le(2, "key length"), "key")
            guard let key = String(validating: k, as: UTF8.self) else {
                throw EngineError.badHostState(offset: keyAt, reason: "key is not UTF-8")
            }
            values[key] = Array(try take(try le(4, "value length"), "value"))
        }
        guard at == bytes.count else {
            throw EngineError.badHostState(offset: at, reason: "\(bytes.count - at) bytes after the last value")
        }
        return values
    }

    private static func appendLE(_ out: inout [UInt8], _ v: UInt64, bytes: Int) {
        for i in 0..<bytes { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }
}
