#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `LogInspector.repair`: cut at the first corruption, keeping a copy of everything cut.
enum Repair {
    static func run(_ fs: any FileSystem, directory: String) throws -> RepairReport {
        let lockFD: Int32
        do {
            guard let fd = try fs.lockFile(directory + "/LOCK") else { throw LogError.locked(directory: directory) }
            lockFD = fd
        } catch let error as FileSystemError {
            throw LogError.io(operation: error.operation, file: error.path, errno: error.errno)
        }
        defer { fs.close(lockFD) }
        let backup = directory + "/repair-\(time(nil))"
        var files: [String] = []
        var droppedBytes: Int64 = 0
        var firstProblem: LogError?
        var inspection = try Inspection.run(fs, directory: directory)
        var rewrites = 0
        // A segment whose frames are all intact but whose footer is damaged gets its footer written again
        // (nothing is dropped); then look again.
        while let cut = inspection.cut, let offsets = cut.footerOffsets,
            cut.position + 1 == inspection.files.count || inspection.files[cut.position + 1].baseIndex == cut.index,
            rewrites <= inspection.files.count
        {
            rewrites += 1
            firstProblem = firstProblem ?? inspection.report.problems.first
            let file = inspection.files[cut.position]
            droppedBytes += try rewriteFooter(fs, directory: directory, backup: backup, file: file, offsets: offsets, footerStart: cut.offset)
            files.append(file.name)
            inspection = try Inspection.run(fs, directory: directory)
        }
        guard let cut = inspection.cut else {
            if files.isEmpty {
                return RepairReport(changed: false, droppedFirstIndex: nil, droppedLastIndex: nil, droppedBytes: 0,
                                    files: [], backupDirectory: nil, cutAt: nil)
            }
            do { try fs.syncDirectory(directory) } catch { throw io(error) }
            return RepairReport(changed: true, droppedFirstIndex: nil, droppedLastIndex: nil, droppedBytes: droppedBytes,
                                files: files, backupDirectory: backup, cutAt: firstProblem)
        }
        do { try fs.makeDirectory(backup) } catch { throw io(error) }
        var droppedLast: UInt64?
        for position in cut.position..<inspection.files.count {
            let file = inspection.files[position]
            let path = directory + "/" + file.name
            let from = position == cut.position ? cut.offset : 0
            do {
                let fd = try fs.open(path, create: false, readOnly: false)
                defer { fs.close(fd) }
                let size = Int(try fs.fileSize(fd, path: path))
                let copyName = backup + "/" + file.name + (from > 0 ? ".from-\(from)" : "")
                try copy(fs, from: fd, path: path, start: from, end: size, to: copyName)
                droppedBytes += Int64(max(0, size - from))
                if from >= SegmentFormat.headerSize {
                    try fs.ftruncate(fd, size: Int64(from), path: path)
                    try fs.fsync(fd, path: path)
                } else {
                    try fs.unlink(path)
                }
            } catch let error as FileSystemError {
                throw io(error)
            }
            files.append(file.name)
            let info = inspection.report.segments[position]
            if info.lastIndex != info.firstIndex &- 1 && info.lastIndex >= cut.index {
                droppedLast = max(droppedLast ?? 0, info.lastIndex)
            }
        }
        do {
            try fs.syncDirectory(backup)
            try fs.syncDirectory(directory)
        } catch { throw io(error) }
        return RepairReport(
            changed: true, droppedFirstIndex: droppedLast == nil ? nil : cut.index, droppedLastIndex: droppedLast,
            droppedBytes: droppedBytes, files: files, backupDirectory: backup,
            cutAt: firstProblem ?? inspection.report.problems.first)
    }

    static func io(_ error: FileSystemError) -> LogError {
        .io(operation: error.operation, file: error.path, errno: error.errno)
    }

    /// Copies the damaged footer bytes to the backup directory and writes a footer for `offsets` at
    /// `footerStart`; returns how many bytes were replaced.
    static func rewriteFooter(_ fs: any FileSystem, directory: String, backup: String, file: SegmentFile,
                              offsets: [UInt32], footerStart: Int) throws -> Int64 {
        let path = directory + "/" + file.name
        do {
            try fs.makeDirectory(backup)
            let fd = try fs.open(path, create: false, readOnly: false)
            defer { fs.close(fd) }
            let size = Int(try fs.fileSize(fd, path: path))
            try copy(fs, from: fd, path: path, start: footerStart, end: size, to: backup + "/" + file.name + ".from-\(footerStart)")
            let footer = Footer.encode(offsets: offsets, firstIndex: file.baseIndex, footerStart: footerStart)
            try fs.pwrite(fd, footer, at: Int64(footerStart), path: path)
            try fs.ftruncate(fd, size: Int64(footerStart + footer.count), path: path)
            try fs.fsync(fd, path: path)
            return Int64(max(0, size - footerStart))
        } catch let error as FileSystemError {
            throw io(error)
        }
    }

    /// Copies bytes [start, end) of an open file into a new file and fsyncs it.
    static func copy(_ fs: any FileSystem, from fd: Int32, path: String, start: Int, end: Int, to target: String) throws {
        let out = try fs.open(target, create: true, readOnly: false)
        defer { fs.close(out) }
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 8)
        defer { buffer.deallocate() }
        var position = start
        while position < end {
            let want = min(chunk, end - position)
            let got = try fs.pread(fd, UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), at: Int64(position), path: path)
            if got == 0 { break }
            try fs.pwrite(out, UnsafeRawBufferPointer(rebasing: buffer[0..<got]), at: Int64(position - start), path: target)
            position += got
        }
        try fs.fsync(out, path: target)
    }
}
