// The older versions of every key, in one append-only arena: a put moves the key's latest version to the
// arena's tail (memory that is already in cache) and links it to the key's previous older version, instead
// of appending it to an array of the key's own (whose header is one more cache miss per put, and whose
// growth reallocates). Reads at past revisions walk a key's chain from its newest older version. The arena
// is chunked, so copying the store stays O(1) and the first push after a copy copies only the tail chunk.

/// One older version and the link to the key's next older one.
@usableFromInline struct HistoryNode: Sendable {
    @usableFromInline var version: KVVersion
    /// The next older version's handle (0: none).
    @usableFromInline var prev: Int

    @inlinable init(version: KVVersion, prev: Int) { self.version = version; self.prev = prev }
}

/// The arena of older versions. A handle is a node's position + 1; 0 means "no older version".
@usableFromInline struct VersionHistory: Sendable {
    @usableFromInline static let chunkShift = 10
    @usableFromInline static let chunkSize = 1 << chunkShift
    @usableFromInline var chunks: [[HistoryNode]] = []
    /// Nodes in the arena.
    @usableFromInline var count = 0
    /// Nodes no key reaches any more (dropped by compaction); `rebuild` gives their memory back.
    @usableFromInline var garbage = 0

    @usableFromInline init() {}

    /// Appends `version` as the newest older version in front of chain `prev`; returns its handle. O(1).
    @inlinable mutating func push(_ version: consuming KVVersion, prev: Int) -> Int {
        if count & (Self.chunkSize - 1) == 0 {
            chunks.append([])
            chunks[chunks.count - 1].reserveCapacity(Self.chunkSize)
        }
        chunks[chunks.count - 1].append(HistoryNode(version: version, prev: prev))
        count += 1
        return count
    }

    @inlinable subscript(handle: Int) -> HistoryNode {
        _read { yield chunks[(handle - 1) >> Self.chunkShift][(handle - 1) & (Self.chunkSize - 1)] }
        _modify { yield &chunks[(handle - 1) >> Self.chunkShift][(handle - 1) & (Self.chunkSize - 1)] }
    }

    /// The number of versions in chain `handle`. O(chain).
    func length(_ handle: Int) -> Int {
        var n = 0
        var h = handle
        while h != 0 { n += 1; h = self[h].prev }
        return n
    }

    /// Calls `body` with chain `handle`'s versions, oldest first (the order snapshots store). Uses `scratch`
    /// as its buffer (cleared first), so a caller visiting many keys allocates once. O(chain).
    func forEachOldestFirst(_ handle: Int, scratch: inout [Int], _ body: (KVVersion) throws -> Void) rethrows {
        scratch.removeAll(keepingCapacity: true)
        var h = handle
        while h != 0 { scratch.append(h); h = self[h].prev }
        for h in scratch.reversed() { try body(self[h].version) }
    }
}
