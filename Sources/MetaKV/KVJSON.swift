// The canonical JSON of the conformance fixtures (spec section 10): fixed key order, every key present,
// int64s as decimal strings, bytes as standard base64 with padding, no whitespace.

/// Renders responses and states as the fixtures' canonical JSON.
public enum KVJSON {
    /// One `expect.jsonl` line (without the newline) for a command's outcome.
    public static func line(_ result: KVResult) -> String {
        var s = ""
        switch result {
        case .failure(let e):
            s += "{\"error\":"; string(e.description, &s); s += "}"
        case .success(let r):
            switch r {
            case .put(let p): s += "{\"put\":"; put(p, &s)
            case .deleteRange(let d): s += "{\"delete_range\":"; deleteRange(d, &s)
            case .txn(let t): s += "{\"txn\":"; txn(t, &s)
            case .range(let r): s += "{\"range\":"; range(r, &s)
            case .compaction(let rev): s += "{\"compaction\":"; header(rev, &s); s += "}"
            case .leaseGrant(let rev, let id, let ttl):
                s += "{\"lease_grant\":"; header(rev, &s)
                s += ",\"ID\":\"\(id)\",\"TTL\":\"\(ttl)\",\"error\":\"\"}"
            case .leaseRevoke(let rev): s += "{\"lease_revoke\":"; header(rev, &s); s += "}"
            }
            s += "}"
        }
        return s
    }

    /// The `state.json` document (with its trailing newline).
    public static func state(_ store: KVStore) -> String {
        var s = "{\n\"revision\":\"\(store.revision)\",\n\"compact_revision\":\"\(store.compactRevision)\",\n\"kvs\":["
        let kvs = store.allKeyValues()
        if kvs.isEmpty { s += "],\n" } else {
            s += "\n"
            for (i, kv) in kvs.enumerated() { keyValue(kv, &s); s += i + 1 < kvs.count ? ",\n" : "\n" }
            s += "],\n"
        }
        s += "\"leases\":["
        let leases = store.leases.values.sorted { $0.id < $1.id }
        if leases.isEmpty { s += "]\n" } else {
            s += "\n"
            for (i, l) in leases.enumerated() {
                s += "{\"ID\":\"\(l.id)\",\"TTL\":\"\(l.ttl)\",\"keys\":["
                for (j, k) in store.leaseKeys(l.id).enumerated() {
                    if j > 0 { s += "," }
                    s += "\""; base64(k, &s); s += "\""
                }
                s += "]}"
                s += i + 1 < leases.count ? ",\n" : "\n"
            }
            s += "]\n"
        }
        s += "}\n"
        return s
    }

    static func header(_ rev: Int64, _ s: inout String) { s += "{\"header\":{\"revision\":\"\(rev)\"}" }

    static func put(_ p: PutResponse, _ s: inout String) {
        header(p.revision, &s); s += ",\"prev_kv\":"
        if let kv = p.prevKV { keyValue(kv, &s) } else { s += "null" }
        s += "}"
    }

    static func range(_ r: RangeResponse, _ s: inout String) {
        header(r.revision, &s); s += ",\"kvs\":["
        for (i, kv) in r.kvs.enumerated() { if i > 0 { s += "," }; keyValue(kv, &s) }
        s += "],\"more\":\(r.more),\"count\":\"\(r.count)\"}"
    }

    static func deleteRange(_ d: DeleteRangeResponse, _ s: inout String) {
        header(d.revision, &s); s += ",\"deleted\":\"\(d.deleted)\",\"prev_kvs\":["
        for (i, kv) in d.prevKVs.enumerated() { if i > 0 { s += "," }; keyValue(kv, &s) }
        s += "]}"
    }

    static func txn(_ t: TxnResponse, _ s: inout String) {
        header(t.revision, &s); s += ",\"succeeded\":\(t.succeeded),\"responses\":["
        for (i, op) in t.responses.enumerated() {
            if i > 0 { s += "," }
            switch op {
            case .range(let r): s += "{\"response_range\":"; range(r, &s)
            case .put(let p): s += "{\"response_put\":"; put(p, &s)
            case .deleteRange(let d): s += "{\"response_delete_range\":"; deleteRange(d, &s)
            case .txn(let n): s += "{\"response_txn\":"; txn(n, &s)
            }
            s += "}"
        }
        s += "]}"
    }

    static func keyValue(_ kv: KeyValue, _ s: inout String) {
        s += "{\"key\":\""; base64(kv.key, &s)
        s += "\",\"create_revision\":\"\(kv.createRevision)\",\"mod_revision\":\"\(kv.modRevision)\",\"version\":\"\(kv.version)\",\"value\":\""
        base64(kv.value, &s)
        s += "\",\"lease\":\"\(kv.lease)\"}"
    }

    /// A JSON string literal (quotes, backslash and control characters escaped; no HTML escaping).
    static func string(_ text: String, _ s: inout String) {
        s += "\""
        for u in text.unicodeScalars {
            switch u {
            case "\"": s += "\\\""
            case "\\": s += "\\\\"
            case "\n": s += "\\n"
            case "\r": s += "\\r"
            case "\t": s += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    s += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else { s.unicodeScalars.append(u) }
            }
        }
        s += "\""
    }

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".unicodeScalars)

    /// Standard base64 with padding (RFC 4648 section 4).
    public static func base64(_ b: [UInt8], _ s: inout String) {
        var i = 0
        while i + 3 <= b.count {
            let v = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2])
            for sh in [18, 12, 6, 0] { s.unicodeScalars.append(alphabet[Int(v >> UInt32(sh)) & 63]) }
            i += 3
        }
        let rest = b.count - i
        if rest == 1 {
            let v = UInt32(b[i]) << 16
            s.unicodeScalars.append(alphabet[Int(v >> 18) & 63]); s.unicodeScalars.append(alphabet[Int(v >> 12) & 63])
            s += "=="
        } else if rest == 2 {
            let v = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8
            s.unicodeScalars.append(alphabet[Int(v >> 18) & 63]); s.unicodeScalars.append(alphabet[Int(v >> 12) & 63])
            s.unicodeScalars.append(alphabet[Int(v >> 6) & 63]); s += "="
        }
    }
}
