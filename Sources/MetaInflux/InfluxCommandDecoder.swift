// Decoding meta.Command. The type (field 1) may come before or after its extension (Go writes the
// extension first); every occurrence of the matching extension field merges into one payload, other
// extension fields are ignored, and proto2 required fields are enforced as InfluxDB's decoder does.

import MetaFSM

extension InfluxCommand {
    /// Decodes one encoded `meta.Command`.
    ///
    /// - Throws: ``MetaFSMError`` (bad wire format, unknown type, missing payload or required field).
    /// - Complexity: O(n) in the command size; allocations only for strings longer than 15 bytes and lists.
    public init(decoding bytes: UnsafeRawBufferPointer) throws {
        var r = WireReader(bytes, message: "Command")
        try self.init(reader: &r)
    }

    /// Decodes one encoded `meta.Command` held in an array.
    public init(decoding bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try InfluxCommand(decoding: $0) }
    }

    init(reader r: inout WireReader) throws {
        let start = r.offset
        var type: UInt64?
        // The first extension field seen; `several` when more follow (then a second pass merges them).
        var first: (field: Int, range: Range<Int>)?
        var several = false
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            if f == 1 {
                type = try r.varint(wt, f, at)
            } else if f >= 100 && wt == 2 {
                let range = try r.lengthDelimited()
                if first == nil { first = (f, range) } else { several = true }
            } else {
                try r.skip(wireType: wt, field: f)
            }
        }
        guard let t = type else {
            throw MetaFSMError.missingRequiredField(message: "Command", field: "type", offset: start)
        }
        guard t >= 1 && t <= 30 && t != 20 else { throw MetaFSMError.unknownCommandType(type: t, offset: start) }
        let field = 100 + Int(t)
        var p = PayloadFields()
        var found = false
        if !several, let e = first, e.field == field {
            found = true
            var sub = r.nested(e.range, "Command payload")
            try p.merge(&sub, type: Int(t))
        } else if several {
            var again = r.nested(start..<r.limit, "Command")
            while !again.isAtEnd {
                let (f, wt) = try again.tag()
                if f == field && wt == 2 {
                    found = true
                    var sub = again.nested(try again.lengthDelimited(), "Command payload")
                    try p.merge(&sub, type: Int(t))
                } else {
                    try again.skip(wireType: wt, field: f)
                }
            }
        }
        guard found else { throw MetaFSMError.missingPayload(type: Int(t), extensionField: field) }
        self = try p.command(type: Int(t), offset: start)
    }
}

/// The union of every payload message's fields, merged across occurrences, then checked per type.
struct PayloadFields {
    // String and varint fields 1-5 of the payload (no payload has more); tuples, so no heap allocation.
    var s: (String?, String?, String?, String?, String?) = (nil, nil, nil, nil, nil)
    var u: (UInt64?, UInt64?, UInt64?, UInt64?, UInt64?) = (nil, nil, nil, nil, nil)

    func str(_ f: Int) -> String? {
        switch f { case 1: s.0 case 2: s.1 case 3: s.2 case 4: s.3 default: s.4 }
    }
    func num(_ f: Int) -> UInt64? {
        switch f { case 1: u.0 case 2: u.1 case 3: u.2 case 4: u.3 default: u.4 }
    }
    mutating func setStr(_ f: Int, _ v: String) {
        switch f { case 1: s.0 = v case 2: s.1 = v case 3: s.2 = v case 4: s.3 = v default: s.4 = v }
    }
    mutating func setNum(_ f: Int, _ v: UInt64) {
        switch f { case 1: u.0 = v case 2: u.1 = v case 3: u.2 = v case 4: u.3 = v default: u.4 = v }
    }
    /// CreateSubscription's Destinations (field 5), in order.
    var destinations: [String] = []
    /// The RetentionPolicyInfo of CreateDatabase / CreateRetentionPolicy, and which of its required
    /// fields were seen (checked once all occurrences are merged).
    var rp: RetentionPolicyInfo?
    var rpSeen: UInt32 = 0
    /// SetData's Data.
    var data: InfluxData?

    mutating func merge(_ r: inout WireReader, type: Int) throws {
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            guard f <= 5 else {
                try r.skip(wireType: wt, field: f)
                continue
            }
            let kind = PayloadFields.kind(type: type, field: f)
            switch kind {
            case .none:
                try r.skip(wireType: wt, field: f)
            case .varint:
                setNum(f, try r.varint(wt, f, at))
            case .string:
                setStr(f, try r.string(wt, f, at))
            case .strings:
                destinations.append(try r.string(wt, f, at))
            case .policy:
                var sub = try r.message(wt, f, at, "RetentionPolicyInfo")
                var p = rp ?? RetentionPolicyInfo(name: "", duration: 0, shardGroupDuration: 0, replicaN: 0)
                try p.decodeFieldsUnchecked(&sub, seen: &rpSeen)
                rp = p
            case .data:
                var sub = try r.message(wt, f, at, "Data")
                var d = data ?? InfluxData()
                try d.decodeFields(&sub)
                data = d
            }
        }
    }
    enum Kind { case none, varint, string, strings, policy, data }

    /// The declared kind of field `f` of the payload of command type `type` (spec 1.2).
    static func kind(type: Int, field f: Int) -> Kind {
        switch (type, f) {
        case (1, 1): .string
        case (1, 2): .varint
        case (2, 1), (2, 2): .varint
        case (3, 1): .string
        case (3, 2): .policy
        case (4, 1): .string
        case (5, 1): .string
        case (5, 2): .policy
        case (6, 1), (6, 2), (7, 1), (7, 2): .string
        case (8, 1), (8, 2), (8, 3): .string
        case (8, 4), (8, 5): .varint
        case (9, 1), (9, 2), (10, 1), (10, 2): .string
        case (9, 3), (10, 3): .varint
        case (11, 1), (11, 2), (11, 3), (12, 1), (12, 2): .string
        case (13, 1), (13, 2): .string
        case (13, 3): .varint
        case (14, 1), (15, 1), (15, 2): .string
        case (16, 1), (16, 2): .string
        case (16, 3): .varint
        case (17, 1): .data
        case (18, 1): .string
        case (18, 2): .varint
        case (19, 1): .varint
        case (19, 2): .string
        case (21, 1), (21, 2), (21, 3), (21, 4): .string
        case (21, 5): .strings
        case (22, 1), (22, 2), (22, 3): .string
        case (23, 1): .varint
        case (23, 2): .string
        case (24, 1), (24, 2), (29, 1), (29, 2): .string
        case (24, 3), (29, 3): .varint
        case (25, 1), (25, 2): .string
        case (26, 1): .varint
        case (26, 2), (26, 3): .string
        case (27, 1), (28, 1), (30, 1): .varint
        default: .none
        }
    }

    func str(_ f: Int, _ name: StaticString, _ type: Int, _ offset: Int) throws -> String {
        guard let v = str(f) else { throw missing(name, type, offset) }
        return v
    }

    func num(_ f: Int, _ name: StaticString, _ type: Int, _ offset: Int) throws -> UInt64 {
        guard let v = num(f) else { throw missing(name, type, offset) }
        return v
    }

    func missing(_ name: StaticString, _ type: Int, _ offset: Int) -> MetaFSMError {
        .missingRequiredField(message: InfluxCommand.typeNames[type] ?? "Command", field: "\(name)", offset: offset)
    }

    func policy(_ type: Int, _ offset: Int) throws -> RetentionPolicyInfo? {
        guard let p = rp else { return nil }
        let names: [StaticString] = ["Name", "Duration", "ShardGroupDuration", "ReplicaN"]
        let missingBits = 15 & ~rpSeen
        if missingBits != 0 {
            throw MetaFSMError.missingRequiredField(
                message: "RetentionPolicyInfo", field: "\(names[missingBits.trailingZeroBitCount])", offset: offset)
        }
        return p
    }

    func command(type t: Int, offset o: Int) throws -> InfluxCommand {
        func i64(_ v: UInt64) -> Int64 { Int64(bitPattern: v) }
        switch t {
        case 1: return .createNode(host: try str(1, "Host", t, o), rand: try num(2, "Rand", t, o))
        case 2: return .deleteNode(id: try num(1, "ID", t, o), force: try num(2, "Force", t, o) != 0)
        case 3: return .createDatabase(name: try str(1, "Name", t, o), retentionPolicy: try policy(t, o))
        case 4: return .dropDatabase(name: try str(1, "Name", t, o))
        case 5:
            let db = try str(1, "Database", t, o)
            guard let p = try policy(t, o) else { throw missing("RetentionPolicy", t, o) }
            return .createRetentionPolicy(database: db, retentionPolicy: p)
        case 6: return .dropRetentionPolicy(database: try str(1, "Database", t, o), name: try str(2, "Name", t, o))
        case 7:
            return .setDefaultRetentionPolicy(database: try str(1, "Database", t, o), name: try str(2, "Name", t, o))
        case 8:
            return .updateRetentionPolicy(
                database: try str(1, "Database", t, o), name: try str(2, "Name", t, o), newName: str(3),
                duration: num(4).map(i64), replicaN: num(5).map { UInt32(truncatingIfNeeded: $0) })
        case 9:
            return .createShardGroup(
                database: try str(1, "Database", t, o), policy: try str(2, "Policy", t, o),
                timestamp: i64(try num(3, "Timestamp", t, o)))
        case 10:
            return .deleteShardGroup(
                database: try str(1, "Database", t, o), policy: try str(2, "Policy", t, o),
                shardGroupID: try num(3, "ShardGroupID", t, o))
        case 11:
            return .createContinuousQuery(
                database: try str(1, "Database", t, o), name: try str(2, "Name", t, o), query: try str(3, "Query", t, o))
        case 12: return .dropContinuousQuery(database: try str(1, "Database", t, o), name: try str(2, "Name", t, o))
        case 13:
            return .createUser(
                name: try str(1, "Name", t, o), hash: try str(2, "Hash", t, o), admin: try num(3, "Admin", t, o) != 0)
        case 14: return .dropUser(name: try str(1, "Name", t, o))
        case 15: return .updateUser(name: try str(1, "Name", t, o), hash: try str(2, "Hash", t, o))
        case 16:
            return .setPrivilege(
                username: try str(1, "Username", t, o), database: try str(2, "Database", t, o),
                privilege: Int32(truncatingIfNeeded: try num(3, "Privilege", t, o)))
        case 17:
            guard let d = data else { throw missing("Data", t, o) }
            return .setData(d)
        case 18: return .setAdminPrivilege(username: try str(1, "Username", t, o), admin: try num(2, "Admin", t, o) != 0)
        case 19: return .updateNode(id: try num(1, "ID", t, o), host: try str(2, "Host", t, o))
        case 21:
            return .createSubscription(
                name: try str(1, "Name", t, o), database: try str(2, "Database", t, o),
                retentionPolicy: try str(3, "RetentionPolicy", t, o), mode: try str(4, "Mode", t, o),
                destinations: destinations)
        case 22:
            return .dropSubscription(
                name: try str(1, "Name", t, o), database: try str(2, "Database", t, o),
                retentionPolicy: try str(3, "RetentionPolicy", t, o))
        case 23: return .removePeer(id: num(1), addr: try str(2, "Addr", t, o))
        case 24:
            return .createMetaNode(
                httpAddr: try str(1, "HTTPAddr", t, o), tcpAddr: try str(2, "TCPAddr", t, o), rand: try num(3, "Rand", t, o))
        case 25: return .createDataNode(httpAddr: try str(1, "HTTPAddr", t, o), tcpAddr: try str(2, "TCPAddr", t, o))
        case 26:
            return .updateDataNode(
                id: try num(1, "ID", t, o), host: try str(2, "Host", t, o), tcpHost: try str(3, "TCPHost", t, o))
        case 27: return .deleteMetaNode(id: try num(1, "ID", t, o))
        case 28: return .deleteDataNode(id: try num(1, "ID", t, o))
        case 29:
            return .setMetaNode(
                httpAddr: try str(1, "HTTPAddr", t, o), tcpAddr: try str(2, "TCPAddr", t, o), rand: try num(3, "Rand", t, o))
        default: return .dropShard(id: try num(1, "ID", t, o))
        }
    }
}

extension RetentionPolicyInfo {
    /// Merges one `RetentionPolicyInfo` into `self`, recording which required fields were seen in `seen`
    /// (a command's policy may arrive in several pieces; the check happens once all are merged).
    mutating func decodeFieldsUnchecked(_ r: inout WireReader, seen: inout UInt32) throws {
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            switch f {
            case 1: name = try r.string(wt, f, at); seen |= 1
            case 2: duration = Int64(bitPattern: try r.varint(wt, f, at)); seen |= 2
            case 3:
                shardGroupDuration = Int64(bitPattern: try r.varint(wt, f, at)); seen |= 4
            case 4: replicaN = UInt32(truncatingIfNeeded: try r.varint(wt, f, at)); seen |= 8
            default: try r.skip(wireType: wt, field: f)  // groups and subscriptions of a payload are ignored
            }
        }
    }
}
