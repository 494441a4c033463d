extension LogInspector {
    /// Calls `body` for every entry from `from` (or the first readable index, if later) in index order,
    /// reading the files directly: read-only, no directory lock, nothing cut or repaired. Entries of a torn
    /// tail (what opening would cut) are not visited. `body` returns false to stop. Throws `.corruption`
    /// (file, offset, index) at damage in a sealed segment or a header, `.io` if a file cannot be read.
    /// Cost: maps each segment once; one CRC check per visited frame.
    public static func forEachEntry(
        directory: String, from: UInt64 = 0, _ body: (EntryHeader, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        let fs = PosixFileSystem()
        let files = try Log.listSegments(fs, directory: directory, cleanUp: false)
        var first: UInt64 = 0
        if let bytes = try MetaFiles.read(fs, directory + "/" + MetaFiles.firstIndexName) {
            first = try MetaFiles.decodeFirstIndex(bytes).first
        }
        let start = max(from, first)
        for (position, file) in files.enumerated() {
            if let next = files.dropFirst(position + 1).first, next.baseIndex <= start { continue }
            let (segment, scan, tail) = try Log.loadSegment(
                fs, directory: directory, file: file, isLast: position == files.count - 1, readOnly: true, verifyFrames: false)
            defer { segment.release(fs) }
            if case let .corrupt(later) = tail {
                throw LogError.corruption(
                    file: file.name, offset: Int64(segment.dataEnd), index: segment.endIndex,
                    reason: "\(scan?.stopReason ?? "invalid frame"), and the frame at byte \(later) was written after this entry was synced")
            }
            var index = max(start, segment.baseIndex)
            while index < segment.endIndex {
                let frame = try segment.checkedFrame(index)
                let header = EntryHeader(index: index, term: Frame.term(frame), kind: Frame.kind(frame))
                let payload = UnsafeRawBufferPointer(start: frame + SegmentFormat.frameHeaderSize, count: Frame.payloadLength(frame))
                if try !body(header, payload) { return }
                index += 1
            }
        }
    }

    /// The hard state stored in `directory` (all zeros if none was saved), read without the lock: the
    /// newest (highest seq) of the `hardstate` file and the hard-state records of the last segment.
    /// Throws `.corruption` if the file is damaged, `.io` if the directory cannot be read.
    public static func hardState(directory: String) throws -> HardState {
        let fs = PosixFileSystem()
        let files = try Log.listSegments(fs, directory: directory, cleanUp: false)
        var best: (seq: UInt64, state: HardState) = (0, HardState())
        if let bytes = try MetaFiles.read(fs, directory + "/" + MetaFiles.hardStateName) {
            best = try MetaFiles.decodeHardState(bytes)
        }
        if let lastFile = files.last {
            let (segment, scan, _) = try Log.loadSegment(
                fs, directory: directory, file: lastFile, isLast: true, readOnly: true, verifyFrames: false)
            segment.release(fs)
            if let record = scan?.hardState, record.seq > best.seq { best = (record.seq, record.state) }
        }
        return best.state
    }
}
