import Foundation

/// The directory rules shared with ../shared/peers: append workloads empty the directory first and then
/// write `.peer-log-ready` ("N S"); replay and random-read reuse a directory whose marker matches and
/// otherwise recreate the log there, untimed.
enum BenchDirectory {
    static let markerName = ".peer-log-ready"

    /// Removes `path` and everything in it, then creates it again, empty.
    static func clear(_ path: String) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: path) {
            do { try fm.removeItem(atPath: path) } catch {
                throw BenchFailure(description: "cannot clear \(path): \(error)")
            }
        }
        try create(path)
    }

    /// Creates `path` (and its parents) if it does not exist.
    static func create(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw BenchFailure(description: "cannot create \(path): \(error)")
        }
    }

    /// Records that `path` holds a complete log of `entries` entries of `entryBytes` bytes.
    static func markReady(_ path: String, entries: Int, entryBytes: Int) throws {
        let marker = path + "/" + markerName
        do { try "\(entries) \(entryBytes)\n".write(toFile: marker, atomically: false, encoding: .utf8) } catch {
            throw BenchFailure(description: "cannot write \(marker): \(error)")
        }
    }

    /// Whether `path` holds a complete log of `entries` entries of `entryBytes` bytes (its marker matches).
    static func isReady(_ path: String, entries: Int, entryBytes: Int) -> Bool {
        guard let text = try? String(contentsOfFile: path + "/" + markerName, encoding: .utf8) else { return false }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return fields.count >= 2 && Int(fields[0]) == entries && Int(fields[1]) == entryBytes
    }

    /// A fresh directory from `mkdtemp` under $TMPDIR (or /tmp); the caller removes it.
    static func makeTemporary() throws -> String {
        let parent = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array((parent + "/metaengine-bench.XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw BenchFailure(description: "mkdtemp under \(parent) failed (errno \(errno))") }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Removes `path` recursively, ignoring errors (used for temporary data).
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Bytes used by the files directly inside `path` (segment files are not nested).
    static func bytesUsed(_ path: String) -> Int {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: path) else { return 0 }
        var total = 0
        for name in names {
            if let attributes = try? fm.attributesOfItem(atPath: path + "/" + name),
               let size = attributes[.size] as? NSNumber {
                total += size.intValue
            }
        }
        return total
    }
}
