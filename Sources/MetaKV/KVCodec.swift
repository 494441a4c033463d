// Hand-written protobuf codec for the etcd requests of KVRequests.swift, on MetaFSM's wire helpers.
//
// Decoding follows proto3 as Go's generated code does: unknown fields are skipped, a repeated occurrence of
// a singular message merges into the first, the last scalar wins, repeated fields append, a oneof member of
// another kind replaces the previous one. `range_end` keeps its presence (absent vs present-but-empty).
// Encoding follows etcd's gogo marshalers (spec section 2): ascending field numbers, default scalars
// omitted, present messages always written, a set oneof member written even at its default.

import MetaFSM

extension WireWriter {
    /// Appends a bytes field (written even when empty).
    @inlinable mutating func bytesField(_ field: Int, _ b: [UInt8]) {
        tag(field, 2)
        varint(UInt64(b.count))
        bytes.append(contentsOf: b)
    }
    /// Appends a bytes field only when non-empty (gogo's rule for plain proto3 bytes).
    @inlinable mutating func bytesIfSet(_ field: Int, _ b: [UInt8]) { if !b.isEmpty { bytesField(field, b) } }
    @inlinable mutating func int64IfSet(_ field: Int, _ v: Int64) { if v != 0 { int64(field, v) } }
    @inlinable mutating func boolIfSet(_ field: Int, _ v: Bool) { if v { bool(field, true) } }
}

/// Reads fields of one message; `buf` is the whole input so ranges can be copied out.
@usableFromInline struct KVDecoder {
    let buf: UnsafeRawBufferPointer
    /// Nested messages deeper than this are refused (protobuf's own recursion limit).
    static let maxDepth = 100

    @inline(__always) func bytes(_ r: Range<Int>) -> [UInt8] {
        r.isEmpty ? [] : Array(UnsafeRawBufferPointer(rebasing: buf[r]))
    }
    @inline(__always) func readBytes(_ rd: inout WireReader, _ wt: Int, _ f: Int, _ at: Int) throws -> [UInt8] {
        try rd.expect(wt, 2, field: f, at: at)
        return bytes(try rd.lengthDelimited())
    }
    @inline(__always) func int64(_ rd: inout WireReader, _ wt: Int, _ f: Int, _ at: Int) throws -> Int64 {
        Int64(bitPattern: try rd.varint(wt, f, at))
    }
    @inline(__always) func int32(_ rd: inout WireReader, _ wt: Int, _ f: Int, _ at: Int) throws -> Int32 {
        Int32(truncatingIfNeeded: try rd.varint(wt, f, at))
    }
    @inline(__always) func bool(_ rd: inout WireReader, _ wt: Int, _ f: Int, _ at: Int) throws -> Bool {
        try rd.varint(wt, f, at) != 0
    }

    func range(_ rd: inout WireReader, into m: inout RangeRequest) throws {
        while !rd.isAtEnd {
            let at = rd.offset
            let (f, wt) = try rd.tag()
            switch f {
            case 1: m.key = try readBytes(&rd, wt, f, at)
            case 2: m.rangeEnd = try readBytes(&rd, wt, f, at)
            case 3: m.limit = try int64(&rd, wt, f, at)
            case 4: m.revision = try int64(&rd, wt, f, at)
            case 5: m.sortOrder = try int32(&rd, wt, f, at)
            case 6: m.sortTarget = try int32(&rd, wt, f, at)
            case 7: m.serializable = try bool(&rd, wt, f, at)
            case 8: m.keysOnly = try bool(&rd, wt, f, at)
            case 9: m.countOnly = try bool(&rd, wt, f, at)
            case 10: m.minModRevision = try int64(&rd, wt, f, at)
            case 11: m.maxModRevision = try int64(&rd, wt, f, at)
            case 12: m.minCreateRevision = try int64(&rd, wt, f, at)
            case 13: m.maxCreateRevision = try int64(&rd, wt, f, at)
            default: try rd.skip(wireType: wt, field: f)
            }
        }
    }

    func put(_ rd: inout WireReader, into m: inout PutRequest) throws {
        while !rd.isAtEnd {
            let at = rd.offset
            let (f, wt) = try rd.tag()
            switch f {
            case 1: m.key = try readBytes(&rd, wt, f, at)
            case 2: m.value = try readBytes(&rd, wt, f, at)
            case 3: m.lease = try int64(&rd, wt, f, at)
            case 4: m.prevKV = try bool(&rd, wt, f, at)
            case 5: m.ignoreValue = try bool(&rd, wt, f, at)
            case 6: m.ignoreLease = try bool(&rd, wt, f, at)
            default: try rd.skip(wireType: wt, field: f)
            }
        }
    }

    func deleteRange(_ rd: inout WireReader, into m: inout DeleteRangeRequest) throws {
        while !rd.isAtEnd {
            let at = rd.offset
            let (f, wt) = try rd.tag()
            switch f {
            case 1: m.key = try readBytes(&rd, wt, f, at)
            case 2: m.rangeEnd = try readBytes(&rd, wt, f, at)
            case 3: m.prevKV = try bool(&rd, wt, f, at)
            default: try rd.skip(wireType: wt, field: f)
            }
        }
    }

    func compare(_ rd: inout WireReader, into m: inout Compare) throws {
        while !rd.isAtEnd {
            let at = rd.offset
            let (f, wt) = try rd.tag()
            switch f {
            case 1: m.result = try int32(&rd, wt, f, at)
            case 2: m.target = try int32(&rd, wt, f, at)
            case 3: m.key = try readBytes(&rd, wt, f, at)
            case 4: m.operand = .version(try int64(&rd, wt, f, at))
            case 5: m.operand = .createRevision(try int64(&rd, wt, f, at))
            case 6: m.operand = .modRevision(try int64(&rd, wt, f, at))
            case 7: m.operand = .value(try readBytes(&rd, wt, f, at))
            case 8: m.operand = .lease(try int64(&rd, wt, f, at))
            case 64: m.rangeEnd = try readBytes(&rd, wt, f, at)
            default: try rd.skip(wireType: wt, field: f)
            }
        }
    }

    func requestOp(_ rd: inout WireReader, into m: inout RequestOp, depth: Int) throws {
        while !rd.isAtEnd {
            let at = rd.offset
            let (f, wt) = try rd.tag()
            switch f {
            case 1:
                var sub = try rd.message(wt, f, at, "RangeRequest")
                var v = RangeRequest()
                if case .range(let old) = m { v = old }
                try range(&sub, into: &v)
                m = .range(v)
            case 2:
                var sub = try rd.message(wt, f, at, "PutRequest")
                var v = PutRequest()
                if case .put(let old) = m { v = old }
                try put(&sub, into: &v)
                m = .put(v)
            case 3:
                var sub = try rd.message(wt, f, at, "DeleteRangeRequest")
                var v = DeleteRangeRequest()
                if case .deleteRange(let old) = m { v = old }
                try deleteRange(&sub, into: &v)
                m = .deleteRange(v)
            case 4:
                var sub = try rd.message(wt, f, at, "TxnRequest")
                var v = TxnRequest()
                if case .txn(let old) = m { v = old }
                try txn(&sub, into: &v, depth: depth + 1)
                m = .txn(v)
            default: try rd.skip(wireType: wt, field: f)
            }
        }
    }

    func txn(_ rd: inout WireReader, into m: inout TxnRequest, depth: Int) throws {
        guard depth < Self.maxDepth else {
            throw MetaFSMError.malformed(message: "TxnRequest", offset: rd.offset, reason: "transactions nested more than \(Self.maxDepth) deep")
        }
        while !rd.isAtEnd {
            let at = rd.offset
            let (f, wt) = try rd.tag()
            switch f {
            case 1:
                var sub = try rd.message(wt, f, at, "Compare")
                var c = Compare()
                try compare(&sub, into: &c)
                m.compare.append(c)
            case 2, 3:
                var sub = try rd.message(wt, f, at, "RequestOp")
                var op = RequestOp.none
                try requestOp(&sub, into: &op, depth: depth)
                if f == 2 { m.success.append(op) } else { m.failure.append(op) }
            default: try rd.skip(wireType: wt, field: f)
            }
        }
    }

    func internalRaftRequest(_ rd: inout WireReader, into m: inout InternalRaftRequest) throws {
        while !rd.isAtEnd {
            let at = rd.offset
            let (f, wt) = try rd.tag()
            switch f {
            case 100:
                var sub = try rd.message(wt, f, at, "RequestHeader")
                m.hasHeader = true
                while !sub.isAtEnd {
                    let a = sub.offset
                    let (g, w) = try sub.tag()
                    switch g {
                    case 1: m.headerID = try sub.varint(w, g, a)
                    case 2: m.username = try sub.string(w, g, a)
                    case 3: m.authRevision = try sub.varint(w, g, a)
                    default: try sub.skip(wireType: w, field: g)
                    }
                }
            case 1: m.id = try rd.varint(wt, f, at)
            case 3:
                var sub = try rd.message(wt, f, at, "RangeRequest")
                var v = m.range ?? RangeRequest()
                try range(&sub, into: &v)
                m.range = v
            case 4:
                var sub = try rd.message(wt, f, at, "PutRequest")
                var v = m.put ?? PutRequest()
                try put(&sub, into: &v)
                m.put = v
            case 5:
                var sub = try rd.message(wt, f, at, "DeleteRangeRequest")
                var v = m.deleteRange ?? DeleteRangeRequest()
                try deleteRange(&sub, into: &v)
                m.deleteRange = v
            case 6:
                var sub = try rd.message(wt, f, at, "TxnRequest")
                var v = m.txn ?? TxnRequest()
                try txn(&sub, into: &v, depth: 0)
                m.txn = v
            case 7:
                var sub = try rd.message(wt, f, at, "CompactionRequest")
                var v = m.compaction ?? CompactionRequest()
                while !sub.isAtEnd {
                    let a = sub.offset
                    let (g, w) = try sub.tag()
                    switch g {
                    case 1: v.revision = try int64(&sub, w, g, a)
                    case 2: v.physical = try bool(&sub, w, g, a)
                    default: try sub.skip(wireType: w, field: g)
                    }
                }
                m.compaction = v
            case 8:
                var sub = try rd.message(wt, f, at, "LeaseGrantRequest")
                var v = m.leaseGrant ?? LeaseGrantRequest()
                while !sub.isAtEnd {
                    let a = sub.offset
                    let (g, w) = try sub.tag()
                    switch g {
                    case 1: v.ttl = try int64(&sub, w, g, a)
                    case 2: v.id = try int64(&sub, w, g, a)
                    default: try sub.skip(wireType: w, field: g)
                    }
                }
                m.leaseGrant = v
            case 9:
                var sub = try rd.message(wt, f, at, "LeaseRevokeRequest")
                var v = m.leaseRevoke ?? LeaseRevokeRequest()
                while !sub.isAtEnd {
                    let a = sub.offset
                    let (g, w) = try sub.tag()
                    switch g {
                    case 1: v.id = try int64(&sub, w, g, a)
                    default: try sub.skip(wireType: w, field: g)
                    }
                }
                m.leaseRevoke = v
            default:
                try rd.skip(wireType: wt, field: f)
                m.otherFields.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[at..<rd.offset]))
            }
        }
    }
}

extension InternalRaftRequest {
    /// Decodes one raft entry payload. Throws ``MetaFSMError`` naming the byte offset of bad input; never
    /// traps. Cost: one pass, one allocation per key/value/list.
    public init(decoding bytes: UnsafeRawBufferPointer) throws {
        self.init()
        var rd = WireReader(bytes, message: "InternalRaftRequest")
        try KVDecoder(buf: bytes).internalRaftRequest(&rd, into: &self)
    }

    /// Decodes one raft entry payload (see ``init(decoding:)-(UnsafeRawBufferPointer)``).
    public init(decoding bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try InternalRaftRequest(decoding: $0) }
    }

    /// The protobuf encoding, byte for byte what etcd's generated code writes for the same message (fields
    /// this type keeps verbatim in ``otherFields`` go after the KV members, before the header).
    public func encoded() -> [UInt8] {
        var w = WireWriter(capacity: 64)
        if id != 0 { w.uint64(1, id) }
        if let r = range { w.message(3) { r.encode(&$0) } }
        if let r = put { w.message(4) { r.encode(&$0) } }
        if let r = deleteRange { w.message(5) { r.encode(&$0) } }
        if let r = txn { w.message(6) { r.encode(&$0) } }
        if let r = compaction { w.message(7) { $0.int64IfSet(1, r.revision); $0.boolIfSet(2, r.physical) } }
        if let r = leaseGrant { w.message(8) { $0.int64IfSet(1, r.ttl); $0.int64IfSet(2, r.id) } }
        if let r = leaseRevoke { w.message(9) { $0.int64IfSet(1, r.id) } }
        w.bytes.append(contentsOf: otherFields)
        if hasHeader {
            w.message(100) { h in
                if headerID != 0 { h.uint64(1, headerID) }
                if !username.isEmpty { h.string(2, username) }
                if authRevision != 0 { h.uint64(3, authRevision) }
            }
        }
        return w.bytes
    }
}

extension RangeRequest {
    func encode(_ w: inout WireWriter) {
        w.bytesIfSet(1, key)
        if let e = rangeEnd { w.bytesField(2, e) }
        w.int64IfSet(3, limit); w.int64IfSet(4, revision)
        if sortOrder != 0 { w.int32(5, sortOrder) }
        if sortTarget != 0 { w.int32(6, sortTarget) }
        w.boolIfSet(7, serializable); w.boolIfSet(8, keysOnly); w.boolIfSet(9, countOnly)
        w.int64IfSet(10, minModRevision); w.int64IfSet(11, maxModRevision)
        w.int64IfSet(12, minCreateRevision); w.int64IfSet(13, maxCreateRevision)
    }
}

extension PutRequest {
    func encode(_ w: inout WireWriter) {
        w.bytesIfSet(1, key); w.bytesIfSet(2, value); w.int64IfSet(3, lease)
        w.boolIfSet(4, prevKV); w.boolIfSet(5, ignoreValue); w.boolIfSet(6, ignoreLease)
    }
}

extension DeleteRangeRequest {
    func encode(_ w: inout WireWriter) {
        w.bytesIfSet(1, key)
        if let e = rangeEnd { w.bytesField(2, e) }
        w.boolIfSet(3, prevKV)
    }
}

extension Compare {
    func encode(_ w: inout WireWriter) {
        if result != 0 { w.int32(1, result) }
        if target != 0 { w.int32(2, target) }
        w.bytesIfSet(3, key)
        switch operand {
        case .none: break
        case .version(let v): w.int64(4, v)
        case .createRevision(let v): w.int64(5, v)
        case .modRevision(let v): w.int64(6, v)
        case .value(let v): w.bytesField(7, v)
        case .lease(let v): w.int64(8, v)
        }
        if let e = rangeEnd { w.bytesField(64, e) }
    }
}

extension RequestOp {
    func encode(_ w: inout WireWriter) {
        switch self {
        case .none: break
        case .range(let r): w.message(1) { r.encode(&$0) }
        case .put(let r): w.message(2) { r.encode(&$0) }
        case .deleteRange(let r): w.message(3) { r.encode(&$0) }
        case .txn(let r): w.message(4) { r.encode(&$0) }
        }
    }
}

extension TxnRequest {
    func encode(_ w: inout WireWriter) {
        for c in compare { w.message(1) { c.encode(&$0) } }
        for op in success { w.message(2) { op.encode(&$0) } }
        for op in failure { w.message(3) { op.encode(&$0) } }
    }
}

/// Splits a command stream (records of uint32 little-endian length + bytes, the fixtures' `.commands`
/// format) into the byte ranges of its records. Throws ``MetaFSMError/truncatedRecord(record:offset:needed:available:)``
/// when the stream is cut inside a record. Cost: O(records), no copies.
public func kvCommandRecords(_ bytes: UnsafeRawBufferPointer) throws -> [Range<Int>] {
    try commandStreamRecords(bytes)
}

/// Writes requests as a command stream (uint32 little-endian length + encoded InternalRaftRequest each).
public func kvCommandStream(_ requests: [InternalRaftRequest]) -> [UInt8] {
    commandStream(requests.lazy.map { $0.encoded() })
}
