// Protobuf wire format (https://protobuf.dev/programming-guides/encoding/), the subset proto2 needs:
//
//   tag      = varint(field_number << 3 | wire_type)
//   type 0   varint: 1-10 bytes, 7 bits each, low group first, high bit = "more follows".
//            int64/int32 negatives are sign-extended to 64 bits, so they always take 10 bytes.
//   type 1   fixed64, 8 bytes little endian          (skipped: meta.proto has none)
//   type 2   varint(length) + length bytes           (strings, messages, packed repeated)
//   type 3/4 start/end group                         (skipped: deprecated, meta.proto has none)
//   type 5   fixed32, 4 bytes little endian          (skipped)

/// A cursor over protobuf bytes. Offsets are absolute in `bytes`, so errors name the byte in the file.
///
/// Never traps on bad input: every read checks bounds and throws ``MetaFSMError``.
public struct WireReader {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    /// Absolute offset of the next byte to read.
    public var offset: Int
    /// Absolute offset one past the last byte of the current message.
    public let limit: Int
    /// Name of the message being read, for error messages.
    @usableFromInline let message: StaticString

    /// A reader over `bytes[range]` (the whole buffer when `range` is nil).
    public init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>? = nil, message: StaticString) {
        self.bytes = bytes
        self.offset = range?.lowerBound ?? 0
        self.limit = range?.upperBound ?? bytes.count
        self.message = message
    }

    /// A reader for the nested message occupying `range`.
    @inlinable public func nested(_ range: Range<Int>, _ message: StaticString) -> WireReader {
        WireReader(bytes, range: range, message: message)
    }

    /// Whether the current message is fully read.
    @inlinable public var isAtEnd: Bool { offset >= limit }

    @usableFromInline func fail(_ reason: String, at: Int) -> MetaFSMError {
        .malformed(message: "\(message)", offset: at, reason: reason)
    }

    /// Reads one varint (at most 10 bytes). Throws on a truncated or over-long varint. A one-byte varint
    /// (tags, lengths under 128, small numbers: most of them) is read inline; longer ones call out.
    @inlinable @inline(__always) public mutating func varint() throws -> UInt64 {
        if offset < limit {
            let b = bytes[offset]
            if b < 0x80 {
                offset += 1
                return UInt64(b)
            }
        }
        return try varintSlow()
    }

    /// `varint()` for varints of two bytes or more, and for errors.
    @usableFromInline mutating func varintSlow() throws -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < limit {
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift >= 70 { throw fail("varint longer than 10 bytes", at: start) }
        }
        throw fail("varint runs past the end of the message", at: start)
    }

    /// Reads a tag; returns (field number, wire type).
    @inlinable public mutating func tag() throws -> (field: Int, wireType: Int) {
        let at = offset
        let v = try varint()
        let field = v >> 3
        if field == 0 || field > 536_870_911 { throw fail("field number \(field) out of range", at: at) }
        return (Int(field), Int(v & 7))
    }

    /// Reads a length-delimited field and returns its absolute byte range.
    @inlinable public mutating func lengthDelimited() throws -> Range<Int> {
        let at = offset
        let n = try varint()
        guard n <= UInt64(limit - offset) else {
            throw fail("length \(n) runs past the end of the message (\(limit - offset) bytes left)", at: at)
        }
        let start = offset
        offset += Int(n)
        return start..<offset
    }

    /// The bytes of `range` as a String (invalid UTF-8 is replaced with U+FFFD, as Swift strings require).
    @inlinable public func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Reads a length-delimited string field.
    @inlinable public mutating func string() throws -> String {
        let r = try lengthDelimited()
        return string(r)
    }

    /// Skips a field of the given wire type (used for unknown fields). Groups may nest at most 100 deep,
    /// protobuf's own recursion limit, so hostile input cannot exhaust the stack.
    public mutating func skip(wireType: Int, field: Int, depth: Int = 0) throws {
        let at = offset
        switch wireType {
        case 0: _ = try varint()
        case 1:
            guard limit - offset >= 8 else { throw fail("fixed64 runs past the end", at: at) }
            offset += 8
        case 2: _ = try lengthDelimited()
        case 5:
            guard limit - offset >= 4 else { throw fail("fixed32 runs past the end", at: at) }
            offset += 4
        case 3:
            guard depth < 100 else { throw fail("groups nested more than 100 deep", at: at) }
            while true {
                guard !isAtEnd else { throw fail("group \(field) is not closed", at: at) }
                let (f, wt) = try tag()
                if wt == 4 {
                    guard f == field else { throw fail("end group \(f) does not match start group \(field)", at: at) }
                    return
                }
                try skip(wireType: wt, field: f, depth: depth + 1)
            }
        default:
            throw fail("wire type \(wireType) is not valid", at: at)
        }
    }

    /// Skips a field and appends its exact bytes (tag included, from `tagStart`) to `unknown`.
    @inlinable public mutating func keepUnknown(
        wireType: Int, field: Int, tagStart: Int, into unknown: inout UnknownFields
    ) throws {
        try skip(wireType: wireType, field: field)
        unknown.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[tagStart..<offset]))
    }

    /// Reads varint field `field` (its tag, with wire type `wireType`, started at `at`).
    @inlinable public mutating func varint(_ wireType: Int, _ field: Int, _ at: Int) throws -> UInt64 {
        try expect(wireType, 0, field: field, at: at)
        return try varint()
    }

    /// Reads string field `field` (its tag, with wire type `wireType`, started at `at`).
    @inlinable public mutating func string(_ wireType: Int, _ field: Int, _ at: Int) throws -> String {
        try expect(wireType, 2, field: field, at: at)
        return try string()
    }

    /// A reader for the nested message `name` in field `field` (its tag started at `at`).
    @inlinable public mutating func message(_ wireType: Int, _ field: Int, _ at: Int, _ name: StaticString) throws
        -> WireReader
    {
        try expect(wireType, 2, field: field, at: at)
        return nested(try lengthDelimited(), name)
    }

    /// Throws unless `wireType` is `expected`.
    @inlinable public func expect(_ wireType: Int, _ expected: Int, field: Int, at: Int) throws {
        if wireType != expected {
            throw MetaFSMError.wrongWireType(message: "\(message)", field: field, wireType: wireType, offset: at)
        }
    }

    /// Throws ``MetaFSMError/missingRequiredField(message:field:offset:)`` for the first required field
    /// whose bit is missing from `seen`. `names[i]` names bit `i`.
    @inlinable public func requireAll(_ seen: UInt32, _ mask: UInt32, _ names: [StaticString], start: Int)
        throws
    {
        let missing = mask & ~seen
        if missing != 0 {
            let bit = missing.trailingZeroBitCount
            throw MetaFSMError.missingRequiredField(message: "\(message)", field: "\(names[bit])", offset: start)
        }
    }
}

/// Fields a decoder did not recognise, kept byte-for-byte (tags included) and written back after the known
/// fields, as proto2 requires. Empty for everything InfluxDB itself writes.
public struct UnknownFields: Equatable, Hashable, Sendable {
    /// The raw field bytes, in the order they were read.
    public var bytes: [UInt8] = []
    /// No unknown fields.
    public init() {}
    /// Whether no unknown field was seen.
    public var isEmpty: Bool { bytes.isEmpty }
}

/// Appends protobuf wire format to a growing byte array.
///
/// Nested messages are written in one pass: one length byte is reserved, the body written, and the body
/// moved only when its length needs a longer varint (bodies of 128 bytes or more).
public struct WireWriter {
    /// The bytes written so far.
    public var bytes: [UInt8]

    /// An empty writer with `capacity` bytes reserved.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends a varint.
    @inlinable public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Appends a tag.
    @inlinable public mutating func tag(_ field: Int, _ wireType: Int) {
        varint(UInt64(field << 3 | wireType))
    }

    /// Appends a uint64 field.
    @inlinable public mutating func uint64(_ field: Int, _ v: UInt64) { tag(field, 0); varint(v) }
    /// Appends an int64 field (negatives take 10 bytes).
    @inlinable public mutating func int64(_ field: Int, _ v: Int64) { tag(field, 0); varint(UInt64(bitPattern: v)) }
    /// Appends a uint32 field.
    @inlinable public mutating func uint32(_ field: Int, _ v: UInt32) { tag(field, 0); varint(UInt64(v)) }
    /// Appends an int32 field (sign-extended to 64 bits, as proto requires).
    @inlinable public mutating func int32(_ field: Int, _ v: Int32) {
        tag(field, 0); varint(UInt64(bitPattern: Int64(v)))
    }
    /// Appends a bool field.
    @inlinable public mutating func bool(_ field: Int, _ v: Bool) { tag(field, 0); bytes.append(v ? 1 : 0) }

    /// Appends a string field.
    @inlinable public mutating func string(_ field: Int, _ s: String) {
        tag(field, 2)
        var s = s
        s.withUTF8 { u in
            varint(UInt64(u.count))
            bytes.append(contentsOf: u)
        }
    }

    /// Appends kept unknown fields verbatim.
    @inlinable public mutating func unknown(_ u: UnknownFields) {
        if !u.bytes.isEmpty { bytes.append(contentsOf: u.bytes) }
    }

    /// Writes field `field` as a nested message whose body `body` writes.
    @inlinable public mutating func message(_ field: Int, _ body: (inout WireWriter) -> Void) {
        tag(field, 2)
        let lengthAt = bytes.count
        bytes.append(0)
        body(&self)
        let length = bytes.count - lengthAt - 1
        if length < 0x80 {
            bytes[lengthAt] = UInt8(length)
            return
        }
        var prefix: [UInt8] = []
        var v = UInt64(length)
        while v >= 0x80 {
            prefix.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        prefix.append(UInt8(v))
        bytes.replaceSubrange(lengthAt..<(lengthAt + 1), with: prefix)
    }
}
