// Most entries of a metadata store's log are plain puts: InternalRaftRequest{header, put{key, value}}. Those
// are applied straight from the entry's bytes: no InternalRaftRequest, no PutRequest, no key array for a key
// the store holds. Anything else (a lease, prev_kv, ignore_value/ignore_lease, another request member, an
// unknown field, a malformed byte, an empty key, an oversized entry) goes the general way, which gives
// every answer and every error.

import MetaFSM

/// Where a plain put's key and value are in an entry.
struct KVPlainPut {
    var key: Range<Int>
    var value: Range<Int>

    /// The put in `bytes` if they are exactly a well-formed InternalRaftRequest holding a RequestHeader (any
    /// well-formed content), the legacy id, and PutRequest fields key, value and zero-valued lease/flag
    /// fields (repeated fields: the last wins, as protobuf merges them); nil otherwise. O(bytes), no
    /// allocation.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> KVPlainPut? {
        var rd = WireReader(bytes, message: "InternalRaftRequest")
        var key: Range<Int>?
        var value: Range<Int> = 0..<0
        do {
            while !rd.isAtEnd {
                let at = rd.offset
                let (f, wt) = try rd.tag()
                switch f {
                case 100:
                    var header = try rd.message(wt, f, at, "RequestHeader")
                    while !header.isAtEnd {
                        let a = header.offset
                        let (g, w) = try header.tag()
                        switch g {
                        case 1, 3: _ = try header.varint(w, g, a)
                        case 2: _ = try header.string(w, g, a)
                        default: try header.skip(wireType: w, field: g)
                        }
                    }
                case 1:
                    _ = try rd.varint(wt, f, at)
                case 4:
                    var put = try rd.message(wt, f, at, "PutRequest")
                    while !put.isAtEnd {
                        let a = put.offset
                        let (g, w) = try put.tag()
                        switch g {
                        case 1:
                            try put.expect(w, 2, field: g, at: a)
                            key = try put.lengthDelimited()
                        case 2:
                            try put.expect(w, 2, field: g, at: a)
                            value = try put.lengthDelimited()
                        case 3, 4, 5, 6:
                            // lease, prev_kv, ignore_value, ignore_lease: only their zero values are plain.
                            guard try put.varint(w, g, a) == 0 else { return nil }
                        default:
                            try put.skip(wireType: w, field: g)
                        }
                    }
                default:
                    return nil
                }
            }
        } catch {
            return nil
        }
        guard let key, !key.isEmpty else { return nil }
        return KVPlainPut(key: key, value: value)
    }
}
