#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A segment file found in the directory.
struct SegmentFile {
    var id: UInt64
    var baseIndex: UInt64
    var name: String
}

extension Log {
    /// Lists segment files (sorted by id) and removes leftover temporary files when `cleanUp`.
    static func listSegments(_ fs: any FileSystem, directory: String, cleanUp: Bool) throws(LogError) -> [SegmentFile] {
        try listFiles(fs, directory: directory, cleanUp: cleanUp).segments
    }

    /// Segment files (sorted by id) and spares (Recycling.swift); with `cleanUp`, removes the other
    /// temporary files (spares are left to `adoptSpares`).
    static func listFiles(_ fs: any FileSystem, directory: String, cleanUp: Bool)
        throws(LogError) -> (segments: [SegmentFile], spares: [SegmentFile])
    {
        let names: [String]
        do { names = try fs.listDirectory(directory) } catch {
            throw LogError.io(operation: error.operation, file: error.path, errno: error.errno)
        }
        var files: [SegmentFile] = []
        var spares: [SegmentFile] = []
        for name in names {
            if let parsed = SegmentFormat.parseFileName(name) {
                files.append(SegmentFile(id: parsed.id, baseIndex: parsed.baseIndex, name: name))
            } else if let spare = Log.parseSpareName(name) {
                spares.append(spare)
            } else if cleanUp && name.hasSuffix(".tmp") {
                try? fs.unlink(directory + "/" + name)
            }
        }
        files.sort { $0.id < $1.id }
        return (files, spares)
    }

    /// Opens and maps a segment file, checks its header and footer. For the last segment without a
    /// footer it scans the frames and classifies what follows the last valid one.
    static func loadSegment(_ fs: any FileSystem, directory: String, file: SegmentFile, isLast: Bool, readOnly: Bool,
                            verifyFrames: Bool)
        throws(LogError) -> (segment: Segment, tail: FrameScanner.Scan?, tailKind: FrameScanner.Tail?)
    {
        let path = directory + "/" + file.name
        let fd: Int32
        do { fd = try fs.open(path, create: false, readOnly: readOnly) } catch {
            throw LogError.io(operation: error.operation, file: error.path, errno: error.errno)
        }
        var map: UnsafeRawPointer?
        var size = 0
        do {
            size = Int(try fs.fileSize(fd, path: path))
            map = try fs.map(fd, length: size, path: path)
        } catch {
            fs.close(fd)
            throw LogError.io(operation: error.operation, file: error.path, errno: error.errno)
        }
        let base = map!
        func fail(_ error: LogError) -> LogError {
            fs.unmap(base, length: size)
            fs.close(fd)
            return error
        }
        if let problem = SegmentFormat.checkHeader(
            UnsafeRawBufferPointer(start: base, count: min(size, SegmentFormat.headerSize)),
            baseIndex: file.baseIndex, segmentId: file.id)
        {
            throw fail(.corruption(file: file.name, offset: problem.offset, index: file.baseIndex, reason: problem.reason))
        }
        switch Footer.decode(base, fileSize: size, baseIndex: file.baseIndex) {
        case let .valid(offsets, footerStart) where isLast:
            // The last segment is scanned even when sealed: for its hard-state records, and because a log
            // written before seals synced their frames first may hold a footer whose frames never reached
            // the disk. Such a segment is treated as unsealed (the footer is then a torn tail).
            let scanner = FrameScanner(map: base, fileSize: size, baseIndex: file.baseIndex, salt: SegmentFormat.salt(file.id), fd: fd, fs: fs,
                                       staleSalt: SegmentFormat.previousSalt(base))
            let scan = scanner.scan(limit: footerStart)
            if scan.end == footerStart && scan.offsets == offsets {
                let segment = Segment(
                    id: file.id, baseIndex: file.baseIndex, name: file.name, path: path, fd: fd, map: base,
                    mapLength: size, offsets: offsets, dataEnd: footerStart, fileSize: size, sealed: true)
                segment.monotonicTerms = scan.monotonicTerms
                return (segment, scan, nil)
            }
        case let .valid(offsets, footerStart):
            if verifyFrames {
                let scanner = FrameScanner(map: base, fileSize: size, baseIndex: file.baseIndex, salt: SegmentFormat.salt(file.id), fd: fd, fs: fs,
                                       staleSalt: SegmentFormat.previousSalt(base))
                let scan = scanner.scan(limit: footerStart)
                if scan.end != footerStart || scan.offsets != offsets {
                    throw fail(.corruption(
                        file: file.name, offset: Int64(scan.end), index: file.baseIndex + UInt64(scan.offsets.count),
                        reason: scan.stopReason ?? "footer offsets differ from the frames"))
                }
            }
            let segment = Segment(
                id: file.id, baseIndex: file.baseIndex, name: file.name, path: path, fd: fd, map: base,
                mapLength: size, offsets: offsets, dataEnd: footerStart, fileSize: size, sealed: true)
            segment.monotonicTerms = Footer.monotonicTerms(base, fileSize: size)
            return (segment, nil, nil)
        case let .damaged(offset, reason):
            if !isLast { throw fail(.corruption(file: file.name, offset: offset, index: nil, reason: reason)) }
        case .absent:
            if !isLast {
                throw fail(.corruption(
                    file: file.name, offset: Int64(max(0, size - Footer.trailerSize)), index: nil,
                    reason: "sealed segment has no footer (only the last segment may be unsealed)"))
            }
        }
        let scanner = FrameScanner(map: base, fileSize: size, baseIndex: file.baseIndex, salt: SegmentFormat.salt(file.id), fd: fd, fs: fs,
                                       staleSalt: SegmentFormat.previousSalt(base))
        let scan = scanner.scan(limit: size)
        var kind: FrameScanner.Tail?
        if scan.end < size {
            kind = scanner.classifyTail(from: scan.end, expected: file.baseIndex + UInt64(scan.offsets.count))
        }
        let segment = Segment(
            id: file.id, baseIndex: file.baseIndex, name: file.name, path: path, fd: fd, map: base,
            mapLength: size, offsets: scan.offsets, dataEnd: scan.end, fileSize: size, sealed: false)
        segment.monotonicTerms = scan.monotonicTerms
        return (segment, scan, kind)
    }

    /// Opening: directory, lock, segments, torn tail, first index, hard state, term runs.
    func open() throws {
        do {
            try fs.makeDirectory(directory)
            // The log directory's own entry must be durable in its parent before anything in it is.
            try fs.syncDirectory(Log.parent(of: directory))
        } catch { throw mapError(error) }
        do {
            guard let fd = try fs.lockFile(path("LOCK")) else { throw LogError.locked(directory: directory) }
            lockFD = fd
        } catch let error as FileSystemError {
            throw mapError(error)
        }
        let listed = try Log.listFiles(fs, directory: directory, cleanUp: true)
        var files = listed.segments
        // First index (with the boundary term) and the hard-state checkpoint.
        var fileFirst: UInt64?
        var fileBoundary: UInt64?
        var fileHard: (seq: UInt64, state: HardState)?
        do {
            if let bytes = try MetaFiles.read(fs, path(MetaFiles.firstIndexName)) {
                (fileFirst, fileBoundary) = try MetaFiles.decodeFirstIndex(bytes)
            }
            if let bytes = try MetaFiles.read(fs, path(MetaFiles.hardStateName)) {
                fileHard = try MetaFiles.decodeHardState(bytes)
            }
        } catch let error as FileSystemError {
            throw mapError(error)
        }
        // Segments wholly below the first index are leftovers of a removePrefix cut short by a crash; any
        // subset of its unlinks may have reached the disk, so gaps among them are expected: drop them
        // unread (the next segment starting at or below the first index proves they hold nothing needed).
        var leftovers: [SegmentFile] = []
        if let fileFirst {
            while files.count >= 2 && files[1].baseIndex <= fileFirst { leftovers.append(files.removeFirst()) }
        }
        var torn: TornTail?
        var lastScan: FrameScanner.Scan?
        for (position, file) in files.enumerated() {
            let isLast = position == files.count - 1
            let result: (segment: Segment, tail: FrameScanner.Scan?, tailKind: FrameScanner.Tail?)
            result = try Log.loadSegment(fs, directory: directory, file: file, isLast: isLast, readOnly: false,
                                          verifyFrames: options.verifyOnOpen)
            let previous = segments.last
            segments.append(result.segment)
            if let previous, previous.endIndex != file.baseIndex {
                throw LogError.corruption(
                    file: file.name, offset: 16, index: file.baseIndex,
                    reason: "segment starts at index \(file.baseIndex) but the previous one ends at \(previous.endIndex - 1)")
            }
            if isLast, let scan = result.tail {
                lastMarked = scan.lastMarker ?? 0
                lastScan = scan
            }
            if let kind = result.tailKind, let scan = result.tail {
                let segment = result.segment
                switch kind {
                case let .corrupt(laterFrameOffset):
                    throw LogError.corruption(
                        file: file.name, offset: Int64(scan.end), index: segment.endIndex,
                        reason: "\(scan.stopReason ?? "invalid frame"), and the frame at byte \(laterFrameOffset) "
                            + "was written after this entry was synced, so this is not a torn write")
                case let .torn(lastNonZero):
                    if lastNonZero > scan.end {
                        torn = TornTail(file: file.name, offset: Int64(scan.end), bytesDropped: Int64(lastNonZero - scan.end))
                        try cutTail(segment, at: scan.end)
                    } else if SegmentFormat.previousSalt(segment.map) != 0 && segment.fileSize > scan.end {
                        // A recycled file: what follows the frames is zeros and stale frames of the file's
                        // previous segment, not a torn write. Cut them too (silently), as this process
                        // does not track where they are.
                        try cutTail(segment, at: scan.end)
                    }
                }
            }
        }
        for segment in segments { terms.add(segment, monotonic: segment.monotonicTerms) }
        // Above every id on disk, spares' too: a new segment's salt is never that of old frames in a spare
        // (removePrefix of every segment followed by a restart would otherwise start again at 1).
        nextSegmentId = max(files.last?.id ?? 0, leftovers.last?.id ?? 0, listed.spares.map(\.id).max() ?? 0) + 1
        adoptSpares(listed.spares)
        var logicalFirst: UInt64 = segments.first?.baseIndex ?? 1
        if let fileFirst { logicalFirst = max(logicalFirst, fileFirst) }
        if let lastSegment = segments.last {
            last = lastSegment.endIndex - 1
        } else {
            last = logicalFirst - 1
        }
        first = logicalFirst
        if first > last + 1 { last = first - 1 }
        // The hard state: the highest seq of the checkpoint file and the last segment's records.
        if let fileHard {
            hard = fileHard.state
            hardSeq = fileHard.seq
        }
        if let record = lastScan?.hardState, let lastSegment = segments.last, record.seq > hardSeq {
            hard = record.state
            hardSeq = record.seq
            hardLocation = (lastSegment.id, record.offset)
        }
        // Drop segments whose entries are all below the first index (a removePrefix cut short by a crash).
        var dropped = !leftovers.isEmpty
        for file in leftovers {
            do { try fs.unlink(path(file.name)) } catch { throw mapError(error) }
        }
        while let segment = segments.first, segment.endIndex <= first,
            !(segments.count == 1 && segment.baseIndex >= first)
        {
            if segment === segments.last, hardLocation != nil {
                try checkpointHardStateLocked()
            }
            segments.removeFirst()
            segment.release(fs)
            do { try fs.unlink(segment.path) } catch { throw mapError(error) }
            dropped = true
        }
        if first > 1, first - 1 <= last, (segments.first?.baseIndex ?? .max) <= first - 1, let physical = terms.term(at: first - 1) {
            boundaryTerm = physical
        } else {
            boundaryTerm = first > 1 ? (fileBoundary ?? 0) : 0
        }
        if segments.isEmpty { terms.removeAll() } else { terms.dropRuns(before: segments[0].baseIndex) }
        // What was recovered may only be in the page cache (a process crash): make it durable, so that
        // the sync lag of frames written from now on is truthful.
        if let lastSegment = segments.last {
            if !lastSegment.sealed && lastSegment.fileSize < options.segmentBytes {
                try growActive(lastSegment, to: options.segmentBytes)  // shrunk by a clean close
            }
            do { try fs.fdatasync(lastSegment.fd, path: lastSegment.path) } catch { throw failStop(error) }
            zeroedEnd = lastSegment.dataEnd
            writebackStart = lastSegment.dataEnd
        }
        // A process that died between a rename (segment, hard state, first index) or unlink and the
        // directory fsync left entries that are visible but not durable: make them durable before this
        // process acknowledges anything that depends on them.
        _ = dropped
        do { try fs.syncDirectory(directory) } catch { throw failStop(error) }
        setSynced(last)
        // Record that everything recovered is now synced (helps a later recovery tell damage from a tear).
        try writeMarkerLocked()
        prefaultNewest()
        report = RecoveryReport(segments: segments.count, tornTail: torn)
    }

    /// The directory holding `path` ("." for a bare name).
    package static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// Preallocates the active segment to `capacity` again and maps it at that size.
    func growActive(_ segment: Segment, to capacity: Int) throws(LogError) {
        do { try fs.preallocate(segment.fd, offset: 0, length: Int64(capacity), path: segment.path) } catch {
            throw mapError(error)
        }
        let newMap: UnsafeRawPointer
        do { newMap = try fs.map(segment.fd, length: capacity, path: segment.path) } catch { throw mapError(error) }
        state.withWriteLock {
            fs.unmap(segment.map, length: segment.mapLength)
            segment.map = newMap
            segment.mapLength = capacity
            segment.fileSize = capacity
        }
    }

    /// Cuts `segment` at `offset` (dropping everything after it) and preallocates it again; durable.
    func cutTail(_ segment: Segment, at offset: Int) throws(LogError) {
        do { try fs.ftruncate(segment.fd, size: Int64(offset), path: segment.path) } catch { throw mapError(error) }
        try growActive(segment, to: max(segment.fileSize, options.segmentBytes))
        do { try fs.fdatasync(segment.fd, path: segment.path) } catch { throw failStop(error) }
        state.withWriteLock {
            segment.dataEnd = offset
            segment.sealed = false
        }
        segment.staleEnd = 0
        zeroedEnd = offset
        dirtyUntil = 0
        writebackStart = min(writebackStart, offset)
    }
}
