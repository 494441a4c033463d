// Encoding meta.Command the way InfluxDB's Go code does: the extension field (100 + type) first, then
// field 1; payload fields in number order; optional fields only when present.

import MetaFSM

extension InfluxCommand {
    /// The protobuf bytes of this command.
    public func encoded() -> [UInt8] {
        var w = WireWriter(capacity: 64)
        encode(into: &w)
        return w.bytes
    }

    /// Appends this command's `meta.Command` encoding to `w`.
    public func encode(into w: inout WireWriter) {
        w.message(100 + typeNumber) { encodePayload(into: &$0) }
        w.uint64(1, UInt64(typeNumber))
    }

    func encodePayload(into w: inout WireWriter) {
        switch self {
        case let .createNode(host, rand): w.string(1, host); w.uint64(2, rand)
        case let .deleteNode(id, force): w.uint64(1, id); w.bool(2, force)
        case let .createDatabase(name, rp):
            w.string(1, name)
            if let rp { w.message(2) { rp.encode(into: &$0) } }
        case let .dropDatabase(name): w.string(1, name)
        case let .createRetentionPolicy(db, rp):
            w.string(1, db)
            w.message(2) { rp.encode(into: &$0) }
        case let .dropRetentionPolicy(db, name), let .setDefaultRetentionPolicy(db, name),
            let .dropContinuousQuery(db, name):
            w.string(1, db); w.string(2, name)
        case let .updateRetentionPolicy(db, name, newName, duration, replicaN):
            w.string(1, db)
            w.string(2, name)
            if let newName { w.string(3, newName) }
            if let duration { w.int64(4, duration) }
            if let replicaN { w.uint32(5, replicaN) }
        case let .createShardGroup(db, policy, ts): w.string(1, db); w.string(2, policy); w.int64(3, ts)
        case let .deleteShardGroup(db, policy, id): w.string(1, db); w.string(2, policy); w.uint64(3, id)
        case let .createContinuousQuery(db, name, q): w.string(1, db); w.string(2, name); w.string(3, q)
        case let .createUser(name, hash, admin): w.string(1, name); w.string(2, hash); w.bool(3, admin)
        case let .dropUser(name): w.string(1, name)
        case let .updateUser(name, hash): w.string(1, name); w.string(2, hash)
        case let .setPrivilege(user, db, p): w.string(1, user); w.string(2, db); w.int32(3, p)
        case let .setData(d): w.message(1) { d.encode(into: &$0) }
        case let .setAdminPrivilege(user, admin): w.string(1, user); w.bool(2, admin)
        case let .updateNode(id, host): w.uint64(1, id); w.string(2, host)
        case let .createSubscription(name, db, rp, mode, dests):
            w.string(1, name); w.string(2, db); w.string(3, rp); w.string(4, mode)
            for d in dests { w.string(5, d) }
        case let .dropSubscription(name, db, rp): w.string(1, name); w.string(2, db); w.string(3, rp)
        case let .removePeer(id, addr):
            if let id { w.uint64(1, id) }
            w.string(2, addr)
        case let .createMetaNode(http, tcp, rand), let .setMetaNode(http, tcp, rand):
            w.string(1, http); w.string(2, tcp); w.uint64(3, rand)
        case let .createDataNode(http, tcp): w.string(1, http); w.string(2, tcp)
        case let .updateDataNode(id, host, tcp): w.uint64(1, id); w.string(2, host); w.string(3, tcp)
        case let .deleteMetaNode(id), let .deleteDataNode(id), let .dropShard(id): w.uint64(1, id)
        }
    }
}
