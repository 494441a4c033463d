// Apply rules of InfluxDB 1.6.7 (spec section 4), one method per command. Every method checks all its
// error conditions, in InfluxDB's order, before it changes anything, so a rejected command leaves the
// state untouched (spec 3, atomicity) without InfluxDB's copy of the whole state.

let nanosPerHour: Int64 = 3_600_000_000_000
let nanosPerDay: Int64 = 24 * nanosPerHour
/// InfluxDB's MaxNameLen (bytes).
let maxNameBytes = 255

/// InfluxDB's default shard group duration for a policy duration (spec 4.1).
func defaultShardGroupDuration(_ d: Int64) -> Int64 {
    if d >= 180 * nanosPerDay || d == 0 { return 7 * nanosPerDay }
    if d >= 2 * nanosPerDay { return nanosPerDay }
    return nanosPerHour
}

/// InfluxDB's `normalisedShardDuration` (spec 4.1).
func normalisedShardGroupDuration(_ sgd: Int64, _ d: Int64) -> Int64 {
    if sgd == 0 { return defaultShardGroupDuration(d) }
    if sgd < nanosPerHour { return nanosPerHour }
    return sgd
}

extension InfluxStore {
    /// Applies one command with InfluxDB 1.6.7's semantics. `now` (Unix ns) is the deletion stamp
    /// DeleteShardGroup and DropShard write; it must come from the log entry, never the local clock.
    /// Term and Index are not touched (see ``stamp(term:index:)``).
    ///
    /// - Returns: nil when the command was applied, else the rejection (and the state is unchanged).
    /// - Complexity: O(log g) for CreateShardGroup on a policy with g groups, O(1) hashed look-ups for
    ///   users and databases; DropShard and DropDatabase scan what they must.
    public mutating func apply(_ command: InfluxCommand, now: Int64) -> InfluxError? {
        switch command {
        case let .createDatabase(name, rp): return createDatabase(name, rp)
        case let .dropDatabase(name): dropDatabase(name); return nil
        case let .createRetentionPolicy(db, rp): return createRetentionPolicy(db, rp)
        case let .dropRetentionPolicy(db, name): dropRetentionPolicy(db, name); return nil
        case let .setDefaultRetentionPolicy(db, name):
            return updateRetentionPolicy(db, name, newName: nil, duration: nil, replicaN: nil, makeDefault: true)
        case let .updateRetentionPolicy(db, name, newName, duration, replicaN):
            return updateRetentionPolicy(db, name, newName: newName, duration: duration, replicaN: replicaN,
                                         makeDefault: false)
        case let .createShardGroup(db, policy, ts): return createShardGroup(db, policy, ts)
        case let .deleteShardGroup(db, policy, id): return deleteShardGroup(db, policy, id, now: now)
        case let .dropShard(id): dropShard(id, now: now); return nil
        case let .createContinuousQuery(db, name, q): return createContinuousQuery(db, name, q)
        case let .dropContinuousQuery(db, name): dropContinuousQuery(db, name); return nil
        case let .createUser(name, hash, admin): return createUser(name, hash, admin)
        case let .dropUser(name): return dropUser(name)
        case let .updateUser(name, hash):
            guard let u = userIndex(name) else { return .userNotFound }
            data.users[u].hash = hash
            return nil
        case let .setPrivilege(user, db, p): return setPrivilege(user, db, p)
        case let .setAdminPrivilege(user, admin):
            guard let u = userIndex(user) else { return .userNotFound }
            data.users[u].admin = admin
            return nil
        case let .createSubscription(name, db, rp, mode, dests):
            return createSubscription(name, db, rp, mode, dests)
        case let .dropSubscription(name, db, rp): return dropSubscription(name, db, rp)
        case let .setData(d): replace(with: d); return nil
        case .createNode, .deleteNode, .updateNode, .removePeer, .createMetaNode, .createDataNode,
            .updateDataNode, .deleteMetaNode, .deleteDataNode, .setMetaNode:
            return applyNodeCommand(command, now: now)
        }
    }

    // MARK: databases and retention policies

    static func autogenPolicy() -> RetentionPolicyInfo {
        RetentionPolicyInfo(name: "autogen", duration: 0, shardGroupDuration: 7 * nanosPerDay, replicaN: 1)
    }

    mutating func appendDatabase(_ db: DatabaseInfo) {
        data.databases.append(db)
        databaseNames.appended(db.name, at: data.databases.count - 1)
    }

    /// Spec 4.2: CREATE DATABASE, with retention-autocreate on or with a WITH policy.
    mutating func createDatabase(_ name: String, _ spec: RetentionPolicyInfo?) -> InfluxError? {
        let existing = databaseIndex(name)
        guard let spec else {
            if existing != nil { return nil }
            if name.isEmpty { return .databaseNameRequired }
            if name.utf8.count > maxNameBytes { return .nameTooLong }
            var db = DatabaseInfo(name: name, defaultRetentionPolicy: "autogen")
            db.retentionPolicies = [InfluxStore.autogenPolicy()]
            appendDatabase(db)
            return nil
        }
        let duration = spec.duration
        if duration != 0 && duration < nanosPerHour { return .retentionPolicyDurationTooLow }
        if existing == nil {
            if name.isEmpty { return .databaseNameRequired }
            if name.utf8.count > maxNameBytes { return .nameTooLong }
        }
        let rpName = spec.name.isEmpty ? "autogen" : spec.name
        let sgd = normalisedShardGroupDuration(spec.shardGroupDuration, duration)
        if let d = existing, !data.databases[d].retentionPolicies.isEmpty {
            let db = data.databases[d]
            guard let p = InfluxStore.exactPolicy(db, rpName) else { return .retentionPolicyConflict }
            let rp = db.retentionPolicies[p]
            if rp.duration != duration || rp.replicaN != spec.replicaN
                || normalisedShardGroupDuration(spec.shardGroupDuration, rp.duration) != rp.shardGroupDuration
            {
                return .retentionPolicyConflict
            }
            return db.defaultRetentionPolicy == rpName ? nil : .retentionPolicyConflict
        }
        if rpName.utf8.count > maxNameBytes { return .nameTooLong }
        if spec.replicaN < 1 { return .replicationFactorTooLow }
        if duration > 0 && duration < sgd { return .incompatibleDurations }
        let rp = RetentionPolicyInfo(name: rpName, duration: duration, shardGroupDuration: sgd, replicaN: spec.replicaN)
        if let d = existing {
            data.databases[d].retentionPolicies.append(rp)
            data.databases[d].defaultRetentionPolicy = rpName
        } else {
            var db = DatabaseInfo(name: name, defaultRetentionPolicy: rpName)
            db.retentionPolicies = [rp]
            appendDatabase(db)
        }
        return nil
    }

    /// Spec 4.7: removes the first database of that name and every user's privilege on it.
    mutating func dropDatabase(_ name: String) {
        guard let d = databaseIndex(name) else { return }
        data.databases.remove(at: d)
        databaseNames.removed(name, from: data.databases)
        for u in data.users.indices where data.users[u].privilege(on: name) != nil {
            data.users[u].removePrivilege(on: name)
        }
    }

    /// Spec 4.3.
    mutating func createRetentionPolicy(_ database: String, _ spec: RetentionPolicyInfo) -> InfluxError? {
        let duration = spec.duration
        if duration != 0 && duration < nanosPerHour { return .retentionPolicyDurationTooLow }
        if spec.name.isEmpty { return .retentionPolicyNameRequired }
        if spec.name.utf8.count > maxNameBytes { return .nameTooLong }
        if spec.replicaN < 1 { return .replicationFactorTooLow }
        let sgd = normalisedShardGroupDuration(spec.shardGroupDuration, duration)
        if duration > 0 && duration < sgd { return .incompatibleDurations }
        guard let d = databaseIndex(database) else { return .databaseNotFound(database) }
        if let p = InfluxStore.resolvePolicy(data.databases[d], spec.name) {
            let rp = data.databases[d].retentionPolicies[p]
            if rp.replicaN != spec.replicaN || rp.duration != duration || rp.shardGroupDuration != sgd {
                return .retentionPolicyExists
            }
            return nil
        }
        data.databases[d].retentionPolicies.append(
            RetentionPolicyInfo(name: spec.name, duration: duration, shardGroupDuration: sgd, replicaN: spec.replicaN))
        return nil
    }

    /// Spec 4.4: never fails; DefaultRetentionPolicy is left as it was.
    mutating func dropRetentionPolicy(_ database: String, _ name: String) {
        guard let d = databaseIndex(database),
            let p = InfluxStore.exactPolicy(data.databases[d], name)
        else { return }
        data.databases[d].retentionPolicies.remove(at: p)
    }

    /// Spec 4.5 and 4.6 (InfluxDB's UpdateRetentionPolicy; SetDefault is it with no changes + default).
    mutating func updateRetentionPolicy(
        _ database: String, _ name: String, newName: String?, duration: Int64?, replicaN: UInt32?, makeDefault: Bool
    ) -> InfluxError? {
        guard let d = databaseIndex(database) else { return .databaseNotFound(database) }
        let db = data.databases[d]
        guard let p = InfluxStore.resolvePolicy(db, name) else { return .retentionPolicyNotFound(name) }
        if let n = newName, !goEqual(n, name), InfluxStore.resolvePolicy(db, n) != nil {
            return .retentionPolicyNameExists
        }
        if let du = duration {
            if du < nanosPerHour && du != 0 { return .retentionPolicyDurationTooLow }
            if du > 0 && du < db.retentionPolicies[p].shardGroupDuration { return .incompatibleDurations }
        }
        if let n = newName { data.databases[d].retentionPolicies[p].name = n }
        if let du = duration { data.databases[d].retentionPolicies[p].duration = du }
        if let r = replicaN { data.databases[d].retentionPolicies[p].replicaN = r }
        if makeDefault {
            data.databases[d].defaultRetentionPolicy = data.databases[d].retentionPolicies[p].name
        }
        return nil
    }

    // MARK: shard groups

    /// Spec 4.8.
    mutating func createShardGroup(_ database: String, _ policy: String, _ t: Int64) -> InfluxError? {
        guard let d = databaseIndex(database) else { return .databaseNotFound(database) }
        guard let p = InfluxStore.exactPolicy(data.databases[d], policy) else {
            return .retentionPolicyNotFound(policy)
        }
        if data.databases[d].retentionPolicies[p].groupAccepting(t) != nil { return nil }
        let sgd = data.databases[d].retentionPolicies[p].shardGroupDuration
        let (start, end) = influxShardGroupRange(timestamp: t, duration: sgd)
        data.maxShardGroupID &+= 1
        data.maxShardID &+= 1
        let g = ShardGroupInfo(id: data.maxShardGroupID, startTime: start, endTime: end,
                               shards: [ShardInfo(id: data.maxShardID)])
        data.databases[d].retentionPolicies[p].insertSorted(g)
        return nil
    }

    /// Spec 4.9: stamps the first group with that id in this policy as deleted at `now`.
    mutating func deleteShardGroup(_ database: String, _ policy: String, _ id: UInt64, now: Int64) -> InfluxError? {
        guard let d = databaseIndex(database) else { return .databaseNotFound(database) }
        guard let p = InfluxStore.exactPolicy(data.databases[d], policy) else {
            return .retentionPolicyNotFound(policy)
        }
        guard let g = data.databases[d].retentionPolicies[p].groups.firstIndex(where: { $0.id == id }) else {
            return .shardGroupNotFound
        }
        data.databases[d].retentionPolicies[p].groups[g].deletedAt = now
        return nil
    }

    /// Spec 4.10: removes the first shard with that id; a group left empty is stamped deleted at `now`.
    mutating func dropShard(_ id: UInt64, now: Int64) {
        guard let (d, p, g, s, wasLast) = locateShard(id) else { return }
        data.databases[d].retentionPolicies[p].groups[g].shards.remove(at: s)
        if wasLast { data.databases[d].retentionPolicies[p].groups[g].deletedAt = now }
    }

    /// Where the first shard with `id` lives, scanning databases, policies, groups, shards in order.
    func locateShard(_ id: UInt64) -> (Int, Int, Int, Int, Bool)? {
        for (d, db) in data.databases.enumerated() {
            for (p, rp) in db.retentionPolicies.enumerated() {
                for (g, group) in rp.groups.enumerated() {
                    if let s = group.shards.firstIndex(where: { $0.id == id }) {
                        return (d, p, g, s, group.shards.count == 1)
                    }
                }
            }
        }
        return nil
    }

    // MARK: continuous queries

    /// Spec 4.11.
    mutating func createContinuousQuery(_ database: String, _ name: String, _ query: String) -> InfluxError? {
        guard let d = databaseIndex(database) else { return .databaseNotFound(database) }
        if let cq = data.databases[d].continuousQueries.first(where: { goEqual($0.name, name) }) {
            return goLowercaseEqual(cq.query, query) ? nil : .continuousQueryExists
        }
        data.databases[d].continuousQueries.append(ContinuousQueryInfo(name: name, query: query))
        return nil
    }

    /// Spec 4.12: never fails.
    mutating func dropContinuousQuery(_ database: String, _ name: String) {
        guard let d = databaseIndex(database),
            let c = data.databases[d].continuousQueries.firstIndex(where: { goEqual($0.name, name) })
        else { return }
        data.databases[d].continuousQueries.remove(at: c)
    }

    // MARK: users

    /// Spec 4.13.
    mutating func createUser(_ name: String, _ hash: String, _ admin: Bool) -> InfluxError? {
        if name.isEmpty { return .usernameRequired }
        if userIndex(name) != nil { return .userExists }
        data.users.append(UserInfo(name: name, hash: hash, admin: admin))
        userNames.appended(name, at: data.users.count - 1)
        return nil
    }

    /// Spec 4.14.
    mutating func dropUser(_ name: String) -> InfluxError? {
        guard let u = userIndex(name) else { return .userNotFound }
        data.users.remove(at: u)
        userNames.removed(name, from: data.users)
        return nil
    }

    /// Spec 4.16: the user is checked before the database; the value is stored unvalidated.
    mutating func setPrivilege(_ user: String, _ database: String, _ p: Int32) -> InfluxError? {
        guard let u = userIndex(user) else { return .userNotFound }
        guard databaseIndex(database) != nil else { return .databaseNotFound(database) }
        data.users[u].setPrivilege(p, on: database)
        return nil
    }

    // MARK: subscriptions

    /// Spec 4.18: destinations are validated first, then database, policy and name.
    mutating func createSubscription(
        _ name: String, _ database: String, _ policy: String, _ mode: String, _ destinations: [String]
    ) -> InfluxError? {
        for dest in destinations where !isValidSubscriptionURL(dest) {
            return .invalidSubscriptionURL(dest)
        }
        guard let d = databaseIndex(database) else { return .databaseNotFound(database) }
        guard let p = InfluxStore.exactPolicy(data.databases[d], policy) else {
            return .retentionPolicyNotFound(policy)
        }
        if data.databases[d].retentionPolicies[p].subscriptions.contains(where: { goEqual($0.name, name) }) {
            return .subscriptionExists
        }
        data.databases[d].retentionPolicies[p].subscriptions.append(
            SubscriptionInfo(name: name, mode: mode, destinations: destinations))
        return nil
    }

    /// Spec 4.19.
    mutating func dropSubscription(_ name: String, _ database: String, _ policy: String) -> InfluxError? {
        guard let d = databaseIndex(database) else { return .databaseNotFound(database) }
        guard let p = InfluxStore.exactPolicy(data.databases[d], policy) else {
            return .retentionPolicyNotFound(policy)
        }
        guard let s = data.databases[d].retentionPolicies[p].subscriptions.firstIndex(where: { goEqual($0.name, name) })
        else { return .subscriptionNotFound }
        data.databases[d].retentionPolicies[p].subscriptions.remove(at: s)
        return nil
    }
}
