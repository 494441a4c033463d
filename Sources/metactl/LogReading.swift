import Foundation
import MetaLog

/// Read-only access to a log directory for the inspecting subcommands (verify --payload, dump, stat),
/// which never change the log they look at and do not take its lock.
enum LogReading {
    /// Throws unless `directory` exists and is a directory (opening a `Log` would create it).
    static func requireDirectory(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw LogToolError.noDirectory(directory) }
    }

    /// Calls `body` for at most `limit` entries from `first` on, in index order, straight from the files
    /// (`LogInspector.forEachEntry`: entries of a torn tail are not visited). `body` returns false to stop.
    static func forEachEntry(
        _ directory: String, from first: UInt64, limit: Int = .max,
        _ body: (EntryHeader, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        guard limit > 0 else { return }
        var left = limit
        try LogInspector.forEachEntry(directory: directory, from: first) { header, payload in
            left -= 1
            return try body(header, payload) && left > 0
        }
    }
}
