// Segment recycling (`LogOptions.recycleSegments`): files of segments that `removePrefix` drops are kept
// as spares and become later segments, so their blocks are written again instead of allocated again.
//
// Why it is safe (docs/FORMAT.md, "Recycled segments"):
// - A spare's name ends in `.tmp`, so opening deletes it: a crash at any point loses at most the spare,
//   never a segment. Until the directory fsync after the rename, a crash may bring back the old segment
//   name; it lies wholly below the durable first index, and opening drops such leftovers unread.
// - Reuse renames the spare to the new segment's temporary name, cuts it at the old frames' end (so the
//   old footer, whose base index differs, is gone), writes the new header and fsyncs before the rename
//   that publishes it, exactly as for a fresh file.
// - The old frames that remain after the new ones fail the new segment's checks twice: their CRC is
//   seeded with the old segment's salt, and their indexes are below the new segment's base. So they are
//   never read as entries; after a crash they are part of the tail that recovery cuts, as any bytes after
//   the last valid frame are.

extension Log {
    /// The path of spare number `id` (the id of the segment it held).
    func sparePath(_ id: UInt64) -> String {
        path("spare-" + String(id, radix: 16) + ".tmp")
    }

    /// Drops `segment` (already out of `segments` and released) from the directory: renamed to a spare
    /// when it is sealed and fewer than `recycleSegments` spares are kept, else unlinked. Not durable:
    /// the caller fsyncs the directory. Needs `writer`.
    func discard(_ segment: Segment) throws(LogError) {
        // A salt of 0 would read as "not recycled" in the next header (ids of 2^32 and above only).
        if segment.sealed && spares.count < options.recycleSegments && segment.salt != 0 {
            let spare = sparePath(segment.id)
            do {
                try fs.rename(segment.path, spare)
                spares.append((spare, segment.dataEnd, segment.salt))
                return
            } catch {
                // Not worth failing a removePrefix for: fall back to the unlink.
            }
        }
        do { try fs.unlink(segment.path) } catch { throw mapError(error) }
    }

    /// Renames a spare (if one is kept) to `temporary` and returns the end of its old frames and their
    /// salt, else nil. Needs `writer`.
    func takeSpare(as temporary: String) -> (dataEnd: Int, salt: UInt32)? {
        while let spare = spares.popLast() {
            if (try? fs.rename(spare.path, temporary)) != nil {
                recycled += 1
                return (spare.dataEnd, spare.salt)
            }
            try? fs.unlink(spare.path)
        }
        return nil
    }

    /// Deletes every spare (at close). Needs `writer`.
    func dropSpares() {
        for spare in spares { try? fs.unlink(spare.path) }
        spares.removeAll()
    }

    /// Segments created in a spare file since opening (for tests; waits for the writer).
    var recycledSegmentsForTesting: Int { writer.withLock { recycled } }
}
