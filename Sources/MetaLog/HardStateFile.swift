// Small metadata files replaced atomically: write "<name>.tmp", fsync it, rename over "<name>", fsync
// the directory. A crash leaves either the old or the new file; each carries a CRC32C.
//
// "hardstate" v2: 0 magic "MLOGHARD" u64 | 8 version u32 = 2 | 12 contextLength u32 | 16 term u64
//                24 vote u64 | 32 commit u64 | 40 seq u64 | 48 context bytes | 48+n crc32c(bytes 0..<48+n) u32
//             v1 (still read, seq 0): as v2 without the seq field: context at 40, crc at 40+n.
//   The file is the checkpoint of the hard state; a newer one (higher seq) may be a record in the last
//   segment (SegmentFormat.swift).
// "first-index" v2: 0 magic "MLOGFRST" u64 | 8 firstIndex u64 | 16 boundaryTerm u64 (term of firstIndex-1)
//                   24 crc32c(bytes 0..<24) u32 | 28 reserved u32 = 0       (32 bytes)
//             v1 (still read; boundary term unknown): magic | firstIndex | crc32c(0..<16) u32 | reserved u32 (24 bytes)

/// Which step of an atomic file replacement failed (fsync failures make the log fail-stop).
struct MetaFileFailure: Error {
    var error: FileSystemError
    var wasSync: Bool
}

/// Encoding, decoding and atomic replacement of the hard-state and first-index files.
enum MetaFiles {
    static let hardStateName = "hardstate"
    static let firstIndexName = "first-index"
    static let hardStateMagic: UInt64 = 0x4452_4148_474F_4C4D  // "MLOGHARD"
    static let firstIndexMagic: UInt64 = 0x5453_5246_474F_4C4D  // "MLOGFRST"

    static func encode(_ state: HardState, seq: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 52 + state.context.count)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: hardStateMagic.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: UInt32(2).littleEndian, toByteOffset: 8, as: UInt32.self)
            raw.storeBytes(of: UInt32(state.context.count).littleEndian, toByteOffset: 12, as: UInt32.self)
            raw.storeBytes(of: state.term.littleEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: state.vote.littleEndian, toByteOffset: 24, as: UInt64.self)
            raw.storeBytes(of: state.commit.littleEndian, toByteOffset: 32, as: UInt64.self)
            raw.storeBytes(of: seq.littleEndian, toByteOffset: 40, as: UInt64.self)
            for (i, byte) in state.context.enumerated() { raw[48 + i] = byte }
            let end = 48 + state.context.count
            let crc = CRC32C.extend(0, UnsafeRawBufferPointer(rebasing: raw[0..<end]))
            raw.storeBytes(of: crc.littleEndian, toByteOffset: end, as: UInt32.self)
        }
        return bytes
    }

    /// Decodes a hard-state file (v1 or v2) into (seq, state); throws `.corruption` naming the bad offset.
    static func decodeHardState(_ bytes: [UInt8]) throws -> (seq: UInt64, state: HardState) {
        func bad(_ offset: Int, _ reason: String) -> LogError {
            .corruption(file: hardStateName, offset: Int64(offset), index: nil, reason: reason)
        }
        return try bytes.withUnsafeBytes { (raw) throws -> (seq: UInt64, state: HardState) in
            guard raw.count >= 44 else { throw bad(raw.count, "hard-state file is \(raw.count) bytes, shorter than 44") }
            guard UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)) == hardStateMagic else { throw bad(0, "bad hard-state magic") }
            let version = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            guard version == 1 || version == 2 else { throw bad(8, "unsupported hard-state version \(version)") }
            let fixed = version == 1 ? 40 : 48
            let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
            guard raw.count == fixed + 4 + length else {
                throw bad(12, "context length \(length) does not match the file size \(raw.count)")
            }
            let crc = CRC32C.extend(0, UnsafeRawBufferPointer(rebasing: raw[0..<(fixed + length)]))
            let stored = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: fixed + length, as: UInt32.self))
            guard crc == stored else { throw bad(fixed + length, "hard-state checksum mismatch") }
            let seq = version == 1 ? 0 : UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 40, as: UInt64.self))
            return (seq, HardState(
                term: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                vote: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)),
                commit: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 32, as: UInt64.self)),
                context: [UInt8](raw[fixed..<(fixed + length)])))
        }
    }

    static func encodeFirstIndex(_ index: UInt64, boundaryTerm: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: firstIndexMagic.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: index.littleEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: boundaryTerm.littleEndian, toByteOffset: 16, as: UInt64.self)
            let crc = CRC32C.extend(0, UnsafeRawBufferPointer(rebasing: raw[0..<24]))
            raw.storeBytes(of: crc.littleEndian, toByteOffset: 24, as: UInt32.self)
        }
        return bytes
    }

    /// Decodes a first-index file: (first index, boundary term; nil for a v1 file, which has none).
    static func decodeFirstIndex(_ bytes: [UInt8]) throws -> (first: UInt64, boundaryTerm: UInt64?) {
        func bad(_ offset: Int, _ reason: String) -> LogError {
            .corruption(file: firstIndexName, offset: Int64(offset), index: nil, reason: reason)
        }
        guard bytes.count == 24 || bytes.count == 32 else {
            throw bad(min(bytes.count, 24), "first-index file is \(bytes.count) bytes, not 24 or 32")
        }
        let v2 = bytes.count == 32
        let crcAt = v2 ? 24 : 16
        return try bytes.withUnsafeBytes { (raw) throws -> (first: UInt64, boundaryTerm: UInt64?) in
            guard UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)) == firstIndexMagic else { throw bad(0, "bad first-index magic") }
            let crc = CRC32C.extend(0, UnsafeRawBufferPointer(rebasing: raw[0..<crcAt]))
            guard crc == UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: crcAt, as: UInt32.self)) else {
                throw bad(crcAt, "first-index checksum mismatch")
            }
            guard raw.loadUnaligned(fromByteOffset: crcAt + 4, as: UInt32.self) == 0 else {
                throw bad(crcAt + 4, "reserved first-index bytes are not zero")
            }
            let first = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            return (first, v2 ? UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)) : nil)
        }
    }

    /// Reads a whole small file, or nil if it does not exist.
    static func read(_ fs: any FileSystem, _ path: String) throws -> [UInt8]? {
        let fd: Int32
        do { fd = try fs.open(path, create: false, readOnly: true) } catch {
            if error.errno == ENOENT_CODE { return nil }
            throw error
        }
        defer { fs.close(fd) }
        let size = Int(try fs.fileSize(fd, path: path))
        var bytes = [UInt8](repeating: 0, count: size)
        let count = try bytes.withUnsafeMutableBytes { (raw) throws -> Int in
            try fs.pread(fd, raw, at: 0, path: path)
        }
        if count < size { bytes.removeSubrange(count...) }
        return bytes
    }

    /// Replaces `directory/name` with `bytes` atomically and durably (tmp, fsync, rename, fsync dir).
    static func replace(_ fs: any FileSystem, directory: String, name: String, bytes: [UInt8]) throws(MetaFileFailure) {
        let temporary = directory + "/" + name + ".tmp"
        let final = directory + "/" + name
        var fd: Int32 = -1
        do {
            fd = try fs.open(temporary, create: true, readOnly: false)
            try fs.ftruncate(fd, size: 0, path: temporary)
            try fs.pwrite(fd, bytes, at: 0, path: temporary)
        } catch {
            if fd >= 0 { fs.close(fd) }
            try? fs.unlink(temporary)
            throw MetaFileFailure(error: FileSystemError.from(error, path: temporary), wasSync: false)
        }
        do { try fs.fsync(fd, path: temporary) } catch {
            fs.close(fd)
            throw MetaFileFailure(error: error, wasSync: true)
        }
        fs.close(fd)
        do { try fs.rename(temporary, final) } catch {
            try? fs.unlink(temporary)
            throw MetaFileFailure(error: error, wasSync: false)
        }
        do { try fs.syncDirectory(directory) } catch { throw MetaFileFailure(error: error, wasSync: true) }
    }
}

#if canImport(Glibc)
import Glibc
let ENOENT_CODE = Glibc.ENOENT
#elseif canImport(Darwin)
import Darwin
let ENOENT_CODE = Darwin.ENOENT
#endif
