import Foundation

/// The machine a run measured, for the header of the readable table: cores, memory, CPU, kernel and the
/// free space of the file system holding the data directory.
struct Machine {
    var cores: Int
    var memoryBytes: Int
    var cpuModel: String
    var kernel: String
    var diskFreeBytes: Int
    var dataDirectory: String

    /// Reads /proc and the system calls; missing facts become "unknown" or 0.
    static func current(dataDirectory: String) -> Machine {
        var name = utsname()
        uname(&name)
        func field<T>(_ value: inout T) -> String {
            withUnsafeBytes(of: &value) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        let kernel = "\(field(&name.sysname)) \(field(&name.release)) \(field(&name.machine))"
        var stats = statvfs()
        let free = statvfs(dataDirectory, &stats) == 0 ? Int(stats.f_bavail) * Int(stats.f_frsize) : 0
        return Machine(
            cores: sysconf(Int32(_SC_NPROCESSORS_ONLN)),
            memoryBytes: sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE)),
            cpuModel: procField(file: "/proc/cpuinfo", key: "model name") ?? "unknown CPU",
            kernel: kernel, diskFreeBytes: free, dataDirectory: dataDirectory)
    }

    /// The value after "key:" on the first matching line of a /proc file.
    static func procField(file: String, key: String) -> String? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// Lines for the header of the readable output.
    var headerLines: [String] {
        let gib = 1024.0 * 1024 * 1024
        return [
            "machine: \(cores) cores (\(cpuModel)), \(String(format: "%.1f", Double(memoryBytes) / gib)) GiB memory",
            "kernel:  \(kernel)",
            "disk:    \(String(format: "%.1f", Double(diskFreeBytes) / gib)) GiB free under \(dataDirectory)",
        ]
    }
}
