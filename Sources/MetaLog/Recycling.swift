// Segment recycling (`LogOptions.recycleSegments`): files of sealed segments that `removePrefix`,
// `truncate(after:)` or `reset(after:term:)` drop are kept as spares and become later segments, so their
// blocks are written again instead of allocated again.
// Spares outlive the process: the next open checks each and keeps them (as raft-engine keeps its recycled
// files), so a restarted log rotates into written blocks at once, not only after its next compaction.
//
// Why it is safe (docs/FORMAT.md, "Recycled segments"):
// - A spare is named `spare-<segment file name>.tmp`: no segment name, so the log never reads it as one;
//   opening keeps it only when its header carries the id and base index of that name and its footer is
//   whole (the sealed segment it was), and deletes it otherwise. A crash at any point loses at most the
//   spare, never a segment. Each rename is made durable (directory fsync) before the call that dropped
//   the segment returns, as its unlink was; until then a crash may bring back the old segment name, which
//   is a state the unacknowledged call allows: below the durable first index (removePrefix, reset: opening
//   drops such leftovers unread) or the entries truncate had not yet dropped for good.
// - Reuse renames the spare to the new segment's temporary name, cuts it at the old frames' end (so the
//   old footer, whose base index differs, is gone), writes the new header and fsyncs before the rename
//   that publishes it, exactly as for a fresh file. A crash before that rename is durable may bring the
//   spare's name back over a file already cut or rewritten: its header or footer then no longer checks,
//   and opening deletes it.
// - The old frames that remain after the new ones fail the new segment's CRC check: it is seeded with the
//   old segment's salt (its id's), which no later segment has, since ids only grow (opening starts above
//   every spare's id). Spares from removePrefix also hold indexes below the new segment's base; those
//   from truncate may hold indexes above it, so the salt is what keeps them out. They are never read as
//   entries; after a crash they are part of the tail that recovery cuts (skipped as stale frames by the
//   CRC under the header's previous salt), as any bytes after the last valid frame are.

/// A kept spare file: where it is, and the end and salt of the old frames in it.
typealias Spare = (path: String, dataEnd: Int, salt: UInt32)

extension Log {
    /// The file name of the spare that holds the file of segment `name`.
    static func spareName(of name: String) -> String { "spare-" + name + ".tmp" }

    /// The segment file name a spare's name carries (its id and base index), or nil if `name` is not a spare.
    static func parseSpareName(_ name: String) -> SegmentFile? {
        guard name.hasPrefix("spare-"), name.hasSuffix(".tmp") else { return nil }
        guard let parsed = SegmentFormat.parseFileName(String(name.dropFirst(6).dropLast(4))) else { return nil }
        return SegmentFile(id: parsed.id, baseIndex: parsed.baseIndex, name: name)
    }

    /// Drops `segment` (already out of `segments` and released) from the directory: renamed to a spare
    /// when it is sealed and fewer than `recycleSegments` spares are kept, else unlinked. Not durable:
    /// the caller fsyncs the directory. Needs `writer`.
    func discard(_ segment: Segment) throws(LogError) {
        // A salt of 0 would read as "not recycled" in the next header (ids of 2^32 and above only).
        if segment.sealed && spares.count < options.recycleSegments && segment.salt != 0 {
            let spare = path(Log.spareName(of: segment.name))
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

    /// At open: keeps the newest spares a previous process left, up to `recycleSegments`, each checked as
    /// the sealed segment it was (header with the id and base index of its name, whole footer; frames are
    /// not read); deletes the others. `nextSegmentId` must already be above every spare's id. Cost per
    /// spare: a map of the file and its footer's decode. Needs `writer` (opening holds it).
    func adoptSpares(_ files: [SegmentFile]) {
        var kept: [Spare] = []
        for file in files.sorted(by: { $0.id > $1.id }) {
            let spare = path(file.name)
            // Not the last segment: loading throws unless the footer is whole (a sealed segment).
            if kept.count < options.recycleSegments,
               let found = try? Log.loadSegment(fs, directory: directory, file: file, isLast: false, readOnly: true,
                                                 verifyFrames: false)
            {
                let segment = found.segment
                segment.release(fs)
                if segment.salt != 0 {
                    kept.append((spare, segment.dataEnd, segment.salt))
                    continue
                }
            }
            try? fs.unlink(spare)
        }
        // takeSpare pops from the end: the newest spare first.
        spares = kept.reversed()
    }

    /// Segments created in a spare file since opening (for tests; waits for the writer).
    var recycledSegmentsForTesting: Int { writer.withLock { recycled } }
}
