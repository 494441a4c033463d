/// The scan behind `LogInspector.verify` and `repair`: every segment, frame by frame.
struct Inspection {
    /// Where the first problem is: which segment (position in `files`), the cut offset, the first bad index.
    struct Cut {
        var position: Int
        var offset: Int
        var index: UInt64
        /// Set when every frame of the segment is valid and only its footer is damaged: the offsets of
        /// those frames, from which the footer can be written again instead of cutting.
        var footerOffsets: [UInt32]?
    }

    var report: VerifyReport
    var files: [SegmentFile]
    var cut: Cut?

    static func run(_ fs: any FileSystem, directory: String) throws -> Inspection {
        let listed = try Log.listFiles(fs, directory: directory, cleanUp: false)
        let files = listed.segments
        var report = VerifyReport(firstIndex: 1, lastIndex: 0, segments: [], tornTailOffset: nil, tornTailFile: nil, problems: [])
        for spare in listed.spares.sorted(by: { $0.id < $1.id }) {
            let path = directory + "/" + spare.name
            // A spare that vanished or cannot be read is not the log's problem: it is listed with 0 bytes.
            var bytes: Int64 = 0
            if let fd = try? fs.open(path, create: false, readOnly: true) {
                bytes = (try? fs.fileSize(fd, path: path)) ?? 0
                fs.close(fd)
            }
            report.spareFiles.append(spare.name)
            report.spareBytes += bytes
        }
        var cut: Cut?
        var expectedBase: UInt64?
        var lastValid: UInt64?
        func problem(_ position: Int, _ file: String, _ offset: Int, _ index: UInt64?, _ reason: String, cutOffset: Int, cutIndex: UInt64,
                     footerOnly: [UInt32]? = nil) {
            report.problems.append(.corruption(file: file, offset: Int64(offset), index: index, reason: reason))
            if cut == nil { cut = Cut(position: position, offset: cutOffset, index: cutIndex, footerOffsets: footerOnly) }
        }
        for (position, file) in files.enumerated() {
            let isLast = position == files.count - 1
            let path = directory + "/" + file.name
            let fd: Int32
            do { fd = try fs.open(path, create: false, readOnly: true) } catch {
                throw LogError.io(operation: error.operation, file: error.path, errno: error.errno)
            }
            defer { fs.close(fd) }
            let size: Int
            let map: UnsafeRawPointer
            do {
                size = Int(try fs.fileSize(fd, path: path))
                map = try fs.map(fd, length: size, path: path)
            } catch {
                throw LogError.io(operation: error.operation, file: error.path, errno: error.errno)
            }
            defer { fs.unmap(map, length: size) }
            var info = SegmentInfo(file: file.name, baseIndex: file.baseIndex, firstIndex: file.baseIndex,
                                   lastIndex: file.baseIndex &- 1, bytes: Int64(size), sealed: false)
            if let expectedBase, expectedBase != file.baseIndex {
                problem(position, file.name, 16, file.baseIndex,
                        "segment starts at index \(file.baseIndex) but the previous one ends at \(expectedBase &- 1)",
                        cutOffset: 0, cutIndex: min(expectedBase, file.baseIndex))
            }
            if let bad = SegmentFormat.checkHeader(UnsafeRawBufferPointer(start: map, count: min(size, SegmentFormat.headerSize)),
                                                   baseIndex: file.baseIndex, segmentId: file.id) {
                problem(position, file.name, Int(bad.offset), file.baseIndex, bad.reason, cutOffset: 0, cutIndex: file.baseIndex)
                report.segments.append(info)
                expectedBase = nil
                continue
            }
            let scanner = FrameScanner(map: map, fileSize: size, baseIndex: file.baseIndex, salt: SegmentFormat.salt(file.id), fd: fd, fs: fs,
                                       staleSalt: size >= SegmentFormat.headerSize ? SegmentFormat.previousSalt(map) : 0)
            var scan: FrameScanner.Scan
            var footer = Footer.decode(map, fileSize: size, baseIndex: file.baseIndex)
            if isLast {
                // As opening does: the last segment's footer counts only if its frames all check out;
                // otherwise (a torn footer write, frames lost under a footer) it is an unsealed segment
                // whose tail is classified as torn or corrupt.
                switch footer {
                case let .valid(offsets, footerStart):
                    let check = scanner.scan(limit: footerStart)
                    if check.end != footerStart || check.offsets != offsets { footer = .absent }
                case .damaged:
                    footer = .absent
                case .absent:
                    break
                }
            }
            switch footer {
            case let .valid(offsets, footerStart):
                info.sealed = true
                scan = scanner.scan(limit: footerStart)
                if scan.end != footerStart {
                    problem(position, file.name, scan.end, file.baseIndex + UInt64(scan.offsets.count),
                            scan.stopReason ?? "invalid frame", cutOffset: scan.end, cutIndex: file.baseIndex + UInt64(scan.offsets.count))
                } else if scan.offsets != offsets {
                    problem(position, file.name, footerStart, nil, "footer offsets differ from the frames",
                            cutOffset: scan.end, cutIndex: file.baseIndex + UInt64(scan.offsets.count), footerOnly: scan.offsets)
                }
            case let .damaged(offset, reason):
                scan = scanner.scan(limit: size)
                problem(position, file.name, Int(offset), nil, reason,
                        cutOffset: scan.end, cutIndex: file.baseIndex + UInt64(scan.offsets.count), footerOnly: scan.offsets)
            case .absent:
                scan = scanner.scan(limit: size)
                if scan.end < size {
                    let expected = file.baseIndex + UInt64(scan.offsets.count)
                    let kind = scanner.classifyTail(from: scan.end, expected: expected)
                    switch kind {
                    case let .torn(lastNonZero):
                        if !isLast {
                            problem(position, file.name, scan.end, expected,
                                    "segment is not sealed but is followed by another", cutOffset: scan.end, cutIndex: expected,
                                    footerOnly: scan.offsets)
                        } else if lastNonZero > scan.end {
                            report.tornTailOffset = Int64(scan.end)
                            report.tornTailFile = file.name
                        }
                    case let .corrupt(later):
                        problem(position, file.name, scan.end, expected,
                                "\(scan.stopReason ?? "invalid frame"), and the frame at byte \(later) was written after this entry was synced",
                                cutOffset: scan.end, cutIndex: expected)
                    }
                } else if !isLast {
                    problem(position, file.name, size, nil, "segment is not sealed but is followed by another",
                            cutOffset: scan.end, cutIndex: file.baseIndex + UInt64(scan.offsets.count))
                }
            }
            info.lastIndex = file.baseIndex &+ UInt64(scan.offsets.count) &- 1
            report.segments.append(info)
            expectedBase = file.baseIndex + UInt64(scan.offsets.count)
            if cut == nil { lastValid = info.lastIndex }
        }
        // First index and hard state.
        var first = files.first?.baseIndex ?? 1
        do {
            if let bytes = try MetaFiles.read(fs, directory + "/" + MetaFiles.firstIndexName) {
                do { first = max(first, try MetaFiles.decodeFirstIndex(bytes).first) } catch { report.problems.append(error as? LogError ?? .invalidArgument("\(error)")) }
            }
            if let bytes = try MetaFiles.read(fs, directory + "/" + MetaFiles.hardStateName) {
                do { _ = try MetaFiles.decodeHardState(bytes) } catch { report.problems.append(error as? LogError ?? .invalidArgument("\(error)")) }
            }
        } catch let error as FileSystemError {
            throw LogError.io(operation: error.operation, file: error.path, errno: error.errno)
        }
        report.firstIndex = first
        if let cut { lastValid = cut.index &- 1 }
        report.lastIndex = max(lastValid ?? (first &- 1), first &- 1)
        return Inspection(report: report, files: files, cut: cut)
    }
}
