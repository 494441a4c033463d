import Foundation

/// Prints results either as JSON lines in the peers' schema (`--json`) or as a readable table.
enum ResultPrinter {
    /// One JSON object on one line: the peers' fields with `"system":"metalog"`, then `variant` and the
    /// extra figures.
    static func jsonLine(_ r: BenchResult) -> String {
        var s = "{\"system\":\"metalog\",\"workload\":\(quote(r.workload)),\"entries\":\(r.entries)"
        s += ",\"entry_bytes\":\(r.entryBytes),\"batch\":\(r.batch)"
        s += ",\"seconds\":\(fixed(r.seconds, 6)),\"entries_per_s\":\(fixed(r.entriesPerSecond, 1))"
        s += ",\"mib_per_s\":\(fixed(r.mibPerSecond, 3))"
        if !r.note.isEmpty { s += ",\"note\":\(quote(r.note))" }
        if !r.variant.isEmpty { s += ",\"variant\":\(quote(r.variant))" }
        for e in r.extra { s += ",\(quote(e.name)):\(fixed(e.value, 3))" }
        return s + "}"
    }

    /// A JSON line for a workload that failed (no `entries_per_s`, so compare treats it as a failure).
    static func jsonFailure(workload: String, reason: String) -> String {
        "{\"system\":\"metalog\",\"workload\":\(quote(workload)),\"error\":\(quote(reason))}"
    }

    static let columns = ["workload", "ops", "bytes", "batch", "seconds", "ops/s", "MiB/s"]
    static let widths = [34, 10, 8, 6, 10, 14, 10]

    /// The table's column header.
    static func tableHeader() -> String {
        row(columns) + "  details\n" + String(repeating: "-", count: widths.reduce(0, +) + 2 * widths.count + 8)
    }

    /// One readable row; extras and the note follow on the same line.
    static func tableRow(_ r: BenchResult) -> String {
        let name = r.variant.isEmpty ? r.workload : "\(r.workload) (\(r.variant))"
        var line = row([name, "\(r.entries)", "\(r.entryBytes)", "\(r.batch)", fixed(r.seconds, 3),
                        grouped(r.entriesPerSecond), fixed(r.mibPerSecond, 1)])
        let details = r.extra.map { "\($0.name)=\(compact($0.value))" }
        line += "  " + details.joined(separator: " ")
        if !r.note.isEmpty { line += details.isEmpty ? r.note : "; \(r.note)" }
        return line
    }

    /// A readable row for a failed workload.
    static func tableFailure(workload: String, reason: String) -> String {
        row([workload, "FAILED"]) + "  " + reason
    }

    static func row(_ cells: [String]) -> String {
        var out = ""
        for (i, cell) in cells.enumerated() {
            let w = i < widths.count ? widths[i] : 10
            let pad = String(repeating: " ", count: max(0, w - cell.count))
            out += i == 0 ? cell + pad : pad + cell
            out += "  "
        }
        return out
    }

    static func fixed(_ value: Double, _ digits: Int) -> String {
        value.isFinite ? String(format: "%.\(digits)f", value) : "0"
    }

    /// 1234567.8 -> "1,234,568"; small values keep one decimal.
    static func grouped(_ value: Double) -> String {
        if value < 100 { return fixed(value, 1) }
        var digits = String(Int(value.rounded()))
        var out = ""
        while digits.count > 3 {
            out = "," + digits.suffix(3) + out
            digits.removeLast(3)
        }
        return digits + out
    }

    /// Up to three significant decimals without trailing zeros.
    static func compact(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
        return String(format: value >= 100 ? "%.1f" : "%.3g", value)
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
