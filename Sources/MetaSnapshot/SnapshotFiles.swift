import SystemPackage

/// Whole-file operations used by `metactl snapshot create` and `cat`.
public enum SnapshotFiles {
    /// Wraps the bytes of the file at `input` as the body of a new snapshot at `output` (which must not exist),
    /// streaming 1 MiB at a time; fsyncs the result. Throws `io` for unreadable input or an unwritable output,
    /// `invalidArgument` for bad options.
    @discardableResult
    public static func create(
        from input: String, to output: String, meta: SnapshotMeta, options: SnapshotWriterOptions = SnapshotWriterOptions()
    ) throws -> SnapshotSummary {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(input), .readOnly, options: [.closeOnExec])
        } catch let e as Errno {
            throw SnapshotError.io(path: input, operation: "open", errno: e.rawValue)
        }
        defer { try? fd.close() }
        let writer = try SnapshotWriter(path: output, meta: meta, options: options)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n: Int
            do {
                n = try fd.read(into: buffer)
            } catch let e as Errno {
                writer.abandon()
                throw SnapshotError.io(path: input, operation: "read", errno: e.rawValue)
            }
            if n == 0 { break }
            try writer.write(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
        }
        return try writer.finish()
    }

    /// Streams the decompressed body of `reader` to `output` (e.g. standard output), checking every chunk hash.
    /// Returns the number of bytes written. Throws the first format error (bytes before it were written).
    @discardableResult
    public static func copyBody(of reader: SnapshotReader, to output: FileDescriptor) throws -> UInt64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(reader.layout.chunkBytes, 1 << 16), alignment: 64)
        defer { buffer.deallocate() }
        reader.rewind()
        var total: UInt64 = 0
        while true {
            let n = try reader.read(into: buffer)
            if n == 0 { return total }
            do {
                _ = try output.writeAll(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            } catch let e as Errno {
                throw SnapshotError.io(path: "output", operation: "write", errno: e.rawValue)
            }
            total += UInt64(n)
        }
    }
}
