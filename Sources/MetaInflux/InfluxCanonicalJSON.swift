// The canonical JSON of the conformance fixtures (shared/conformance/README.md, oracle render.go):
// keys sorted, every field present, one-space indentation as Go's json.Encoder.SetIndent("", " ") writes,
// 64-bit integers as decimal strings, ReplicaN/Privilege as numbers, times as Unix ns (0 = unset),
// privileges sorted by database, owners as id strings, shard groups in stored order except that adjacent
// groups tying on (effective end, start) are listed by ascending id. Nodes and MaxNodeID are not shown.

extension InfluxData {
    /// The canonical JSON document, byte-identical to the fixtures' `.data.json` for the same state.
    public func canonicalJSON() -> String {
        var j = JSONWriter()
        j.object {
            $0.key("ClusterID") { $0.string(String(clusterID)) }
            $0.key("Databases") { w in w.array(databases) { w, db in db.writeJSON(&w) } }
            $0.key("Index") { $0.string(String(index)) }
            $0.key("MaxShardGroupID") { $0.string(String(maxShardGroupID)) }
            $0.key("MaxShardID") { $0.string(String(maxShardID)) }
            $0.key("Term") { $0.string(String(term)) }
            $0.key("Users") { w in w.array(users) { w, u in u.writeJSON(&w) } }
        }
        j.out.append("\n")
        return j.out
    }
}

/// The fixtures' `expect.json` for a list of results: `[`, one line per command (`null` or the error
/// string, encoded as Go's json.Marshal does), `]`.
public func influxExpectJSON(_ results: [InfluxError?]) -> String {
    var out = "[\n"
    for (i, r) in results.enumerated() {
        if let r {
            var j = JSONWriter()
            j.string(r.description, html: true)
            out += j.out
        } else {
            out += "null"
        }
        out += i < results.count - 1 ? ",\n" : "\n"
    }
    return out + "]\n"
}

extension DatabaseInfo {
    func writeJSON(_ j: inout JSONWriter) {
        j.object {
            $0.key("ContinuousQueries") { w in
                w.array(continuousQueries) { w, cq in
                    w.object {
                        $0.key("Name") { $0.string(cq.name) }
                        $0.key("Query") { $0.string(cq.query) }
                    }
                }
            }
            $0.key("DefaultRetentionPolicy") { $0.string(defaultRetentionPolicy) }
            $0.key("Name") { $0.string(name) }
            $0.key("RetentionPolicies") { w in w.array(retentionPolicies) { w, rp in rp.writeJSON(&w) } }
        }
    }
}

extension RetentionPolicyInfo {
    /// Stored order with runs of adjacent ties on (effective end, start) ordered by id.
    func canonicalGroupOrder() -> [ShardGroupInfo] {
        var g = groups
        var i = 0
        while i < g.count {
            var j = i + 1
            while j < g.count && g[j].effectiveEnd == g[i].effectiveEnd && g[j].startTime == g[i].startTime { j += 1 }
            if j - i > 1 { g[i..<j].sort { $0.id < $1.id } }
            i = j
        }
        return g
    }

    func writeJSON(_ j: inout JSONWriter) {
        j.object {
            $0.key("Duration") { $0.string(String(duration)) }
            $0.key("Name") { $0.string(name) }
            $0.key("ReplicaN") { $0.raw(String(replicaN)) }
            $0.key("ShardGroupDuration") { $0.string(String(shardGroupDuration)) }
            $0.key("ShardGroups") { w in
                w.array(canonicalGroupOrder()) { w, g in
                    w.object {
                        $0.key("DeletedAt") { $0.string(String(g.deletedAt)) }
                        $0.key("EndTime") { $0.string(String(g.endTime)) }
                        $0.key("ID") { $0.string(String(g.id)) }
                        $0.key("Shards") { w in
                            w.array(g.shards) { w, s in
                                w.object {
                                    $0.key("ID") { $0.string(String(s.id)) }
                                    $0.key("Owners") { w in w.array(s.owners) { w, o in w.string(String(o)) } }
                                }
                            }
                        }
                        $0.key("StartTime") { $0.string(String(g.startTime)) }
                        $0.key("TruncatedAt") { $0.string(String(g.truncatedAt)) }
                    }
                }
            }
            $0.key("Subscriptions") { w in
                w.array(subscriptions) { w, s in
                    w.object {
                        $0.key("Destinations") { w in w.array(s.destinations) { w, d in w.string(d) } }
                        $0.key("Mode") { $0.string(s.mode) }
                        $0.key("Name") { $0.string(s.name) }
                    }
                }
            }
        }
    }
}

extension UserInfo {
    func writeJSON(_ j: inout JSONWriter) {
        j.object {
            $0.key("Admin") { $0.raw(admin ? "true" : "false") }
            $0.key("Hash") { $0.string(hash) }
            $0.key("Name") { $0.string(name) }
            $0.key("Privileges") { w in
                w.array(privileges) { w, p in
                    w.object {
                        $0.key("Database") { $0.string(p.database) }
                        $0.key("Privilege") { $0.raw(String(p.privilege)) }
                    }
                }
            }
        }
    }
}

/// A minimal writer producing exactly Go's indented encoding/json output (indent " ", no HTML escaping).
struct JSONWriter {
    var out = ""
    var depth = 0
    var first = true

    mutating func newline() {
        out.append("\n")
        out.append(String(repeating: " ", count: depth))
    }

    mutating func object(_ body: (inout JSONWriter) -> Void) {
        out.append("{")
        depth += 1
        first = true
        body(&self)
        depth -= 1
        if !first { newline() }
        out.append("}")
        first = false
    }

    mutating func key(_ k: String, _ value: (inout JSONWriter) -> Void) {
        if !first { out.append(",") }
        newline()
        string(k)
        out.append(": ")
        first = true
        value(&self)
        first = false
    }

    mutating func array<T>(_ items: [T], _ each: (inout JSONWriter, T) -> Void) {
        out.append("[")
        depth += 1
        var any = false
        for item in items {
            if any { out.append(",") }
            newline()
            each(&self, item)
            any = true
        }
        depth -= 1
        if any { newline() }
        out.append("]")
        first = false
    }

    mutating func raw(_ s: String) { out.append(s) }

    /// A JSON string as Go 1.19's encoder writes it (HTML escaping of <, >, & only when `html`).
    mutating func string(_ s: String, html: Bool = false) {
        let hex = Array("0123456789abcdef".utf8)
        var b: [UInt8] = [UInt8(ascii: "\"")]
        for u in s.unicodeScalars {
            switch u.value {
            case 0x22: b += [0x5c, 0x22]
            case 0x5c: b += [0x5c, 0x5c]
            case 0x0a: b += [0x5c, UInt8(ascii: "n")]
            case 0x0d: b += [0x5c, UInt8(ascii: "r")]
            case 0x09: b += [0x5c, UInt8(ascii: "t")]
            case 0..<0x20:
                b += Array("\\u00".utf8)
                b += [hex[Int(u.value >> 4)], hex[Int(u.value & 0xf)]]
            case 0x3c where html: b += Array("\\u003c".utf8)
            case 0x3e where html: b += Array("\\u003e".utf8)
            case 0x26 where html: b += Array("\\u0026".utf8)
            case 0x2028: b += Array("\\u2028".utf8)
            case 0x2029: b += Array("\\u2029".utf8)
            default: b += Array(String(u).utf8)
            }
        }
        b.append(UInt8(ascii: "\""))
        out.append(String(decoding: b, as: UTF8.self))
    }
}
