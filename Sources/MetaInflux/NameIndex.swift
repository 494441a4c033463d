// Hashed look-up of databases and users by name that survives removals cheaply.
//
// The dictionary maps a name to the position of its first occurrence when the index was last exact.
// Appends keep it exact. A removal only shifts later entries left by one, so after k removals an entry's
// position is at most k below the recorded one: `find` checks the recorded slot and scans down at most k
// places. After 32 removals (or whenever a list holds duplicate names, which only SetData or a file can
// bring) the index is rebuilt. Look-ups stay O(1) + O(32); a removal costs O(n / 32) amortised.

/// A value with a name (databases, users).
protocol Named {
    var name: String { get }
}

extension DatabaseInfo: Named {}
extension UserInfo: Named {}

struct NameIndex: Sendable {
    private var slots: [NameKey: Int] = [:]
    private var removals = 0
    private var hasDuplicates = false
    static let rebuildAfter = 32

    /// Re-derives the index from `list`. O(n).
    mutating func rebuild<T: Named>(_ list: [T]) {
        slots.removeAll(keepingCapacity: true)
        removals = 0
        hasDuplicates = false
        for (i, item) in list.enumerated() {
            let key = NameKey(item.name)
            if slots[key] == nil { slots[key] = i } else { hasDuplicates = true }
        }
    }

    /// Position of the first element of `list` named `name` (the list this index follows). Short lists
    /// are scanned (cheaper than hashing).
    func find<T: Named>(_ name: String, in list: [T]) -> Int? {
        if list.count <= 8 && !hasDuplicates {
            return list.firstIndex { goEqual($0.name, name) }
        }
        guard let recorded = slots[NameKey(name)] else { return nil }
        var i = min(recorded, list.count - 1)
        let lowest = max(0, recorded - removals)
        while i >= lowest {
            if goEqual(list[i].name, name) { return i }
            i -= 1
        }
        return list.firstIndex { goEqual($0.name, name) }  // not reached while the invariant holds
    }

    /// Records that `name` was appended at position `i`.
    mutating func appended(_ name: String, at i: Int) {
        let key = NameKey(name)
        if slots[key] == nil { slots[key] = i } else { hasDuplicates = true }
    }

    /// Records that the element named `name` was removed from `list` (already updated).
    mutating func removed<T: Named>(_ name: String, from list: [T]) {
        if hasDuplicates {
            rebuild(list)
            return
        }
        slots[NameKey(name)] = nil
        removals += 1
        if removals > NameIndex.rebuildAfter { rebuild(list) }
    }
}
