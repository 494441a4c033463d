// InfluxDB's subscription destination check (services/meta/data.go validateURL): Go's net/url.Parse must
// succeed, the scheme must be udp, http or https, and net.SplitHostPort(u.Host) must succeed with a
// non-empty port. The parts of Go 1.19's url.Parse that can fail or that decide the Host are reproduced
// here over bytes; the rest (query, userinfo values) cannot affect the outcome.

/// Whether InfluxDB 1.6.7 accepts `s` as a subscription destination.
public func isValidSubscriptionURL(_ s: String) -> Bool {
    let b = Array(s.utf8)
    // url.Parse: cut the fragment; it must unescape.
    var raw = b[...]
    if let hash = b.firstIndex(of: UInt8(ascii: "#")) {
        raw = b[..<hash]
        guard goUnescapeOK(b[(hash + 1)...], mode: .fragment) != nil else { return false }
    }
    // parse(): control bytes anywhere in the part before '#'.
    if raw.contains(where: { $0 < 0x20 || $0 == 0x7f }) { return false }
    // getScheme
    var scheme: ArraySlice<UInt8> = []
    var rest = raw
    schemeLoop: for i in raw.indices {
        let c = raw[i]
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): continue
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
            if i == raw.startIndex { break schemeLoop }
        case UInt8(ascii: ":"):
            if i == raw.startIndex { return false }  // missing protocol scheme
            scheme = raw[..<i]
            rest = raw[(i + 1)...]
            break schemeLoop
        default: break schemeLoop
        }
    }
    let lower = scheme.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    guard lower == Array("udp".utf8) || lower == Array("http".utf8) || lower == Array("https".utf8) else {
        return false
    }
    // Query: "?" at the very end alone is ForceQuery; otherwise cut at the first "?".
    let q = UInt8(ascii: "?")
    if rest.last == q && rest.filter({ $0 == q }).count == 1 {
        rest = rest.dropLast()
    } else if let i = rest.firstIndex(of: q) {
        rest = rest[..<i]
    }
    let slash = UInt8(ascii: "/")
    // With a scheme, a rest not starting with "/" is opaque: no host, so SplitHostPort fails.
    guard rest.first == slash else { return false }
    guard rest.count >= 2 && rest[rest.startIndex + 1] == slash else { return false }  // no authority: no host
    var authority = rest.dropFirst(2)
    var path: ArraySlice<UInt8> = []
    if let i = authority.firstIndex(of: slash) {
        path = authority[i...]
        authority = authority[..<i]
    }
    guard let host = goParseAuthorityHost(authority) else { return false }
    guard goUnescapeOK(path, mode: .path) != nil else { return false }
    guard let port = goSplitHostPortPort(host) else { return false }
    return !port.isEmpty
}

enum GoEscapeMode { case host, zone, path, fragment, userPassword }

func isHex(_ c: UInt8) -> Bool {
    (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
}

func unhex(_ c: UInt8) -> UInt8 {
    if c >= 48 && c <= 57 { return c - 48 }
    if c >= 97 && c <= 102 { return c - 87 }
    if c >= 65 && c <= 70 { return c - 55 }
    return 0
}

/// Go's shouldEscape for the host/zone modes (the only ones whose result matters for validation).
func goHostShouldEscape(_ c: UInt8) -> Bool {
    if (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) { return false }
    switch c {
    case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
        UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
        UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "<"),
        UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
        UInt8(ascii: "~"):
        return false
    default: return true
    }
}

/// Go's url.unescape: nil on error, else the unescaped bytes.
func goUnescapeOK(_ s: ArraySlice<UInt8>, mode: GoEscapeMode) -> [UInt8]? {
    var out: [UInt8] = []
    out.reserveCapacity(s.count)
    var i = s.startIndex
    while i < s.endIndex {
        let c = s[i]
        if c == UInt8(ascii: "%") {
            guard i + 2 < s.endIndex, isHex(s[i + 1]), isHex(s[i + 2]) else { return nil }
            let v = unhex(s[i + 1]) << 4 | unhex(s[i + 2])
            let is25 = s[i + 1] == UInt8(ascii: "2") && s[i + 2] == UInt8(ascii: "5")
            if mode == .host && unhex(s[i + 1]) < 8 && !is25 { return nil }
            if mode == .zone && !is25 && v != UInt8(ascii: " ") && goHostShouldEscape(v) { return nil }
            out.append(v)
            i += 3
        } else {
            if (mode == .host || mode == .zone) && c < 0x80 && goHostShouldEscape(c) { return nil }
            out.append(c)
            i += 1
        }
    }
    return out
}

/// Go's validOptionalPort: "" or ":" followed by digits only.
func goValidOptionalPort(_ p: ArraySlice<UInt8>) -> Bool {
    if p.isEmpty { return true }
    guard p.first == UInt8(ascii: ":") else { return false }
    return p.dropFirst().allSatisfy { $0 >= 48 && $0 <= 57 }
}

/// Go's parseAuthority, returning only the (unescaped) host, or nil on error.
func goParseAuthorityHost(_ authority: ArraySlice<UInt8>) -> [UInt8]? {
    var hostPart = authority
    if let at = authority.lastIndex(of: UInt8(ascii: "@")) {
        hostPart = authority[(at + 1)...]
        let userinfo = authority[..<at]
        // validUserinfo works on runes: any non-ASCII rune fails.
        for c in userinfo {
            let ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
                || Array("-._:~!$&'()*+,;=%@".utf8).contains(c)
            if !ok { return nil }
        }
        let colon = userinfo.firstIndex(of: UInt8(ascii: ":"))
        let user = colon.map { userinfo[..<$0] } ?? userinfo
        guard goUnescapeOK(user, mode: .userPassword) != nil else { return nil }
        if let colon { guard goUnescapeOK(userinfo[(colon + 1)...], mode: .userPassword) != nil else { return nil } }
    }
    return goParseHost(hostPart)
}

/// Go's parseHost.
func goParseHost(_ host: ArraySlice<UInt8>) -> [UInt8]? {
    if host.first == UInt8(ascii: "[") {
        guard let close = host.lastIndex(of: UInt8(ascii: "]")) else { return nil }
        guard goValidOptionalPort(host[(close + 1)...]) else { return nil }
        let inner = host[..<close]
        var zone: Int?
        var j = inner.startIndex
        while j + 2 < inner.endIndex {
            if inner[j] == UInt8(ascii: "%") && inner[j + 1] == UInt8(ascii: "2") && inner[j + 2] == UInt8(ascii: "5") {
                zone = j
                break
            }
            j += 1
        }
        if let z = zone {
            guard let h1 = goUnescapeOK(host[..<z], mode: .host),
                let h2 = goUnescapeOK(host[z..<close], mode: .zone),
                let h3 = goUnescapeOK(host[close...], mode: .host)
            else { return nil }
            return h1 + h2 + h3
        }
    } else if let colon = host.lastIndex(of: UInt8(ascii: ":")) {
        guard goValidOptionalPort(host[colon...]) else { return nil }
    }
    return goUnescapeOK(host, mode: .host)
}

/// Go's net.SplitHostPort, returning only the port, or nil on error.
func goSplitHostPortPort(_ hp: [UInt8]) -> ArraySlice<UInt8>? {
    guard let i = hp.lastIndex(of: UInt8(ascii: ":")) else { return nil }
    var j = 0
    var k = 0
    if hp.first == UInt8(ascii: "[") {
        guard let end = hp.firstIndex(of: UInt8(ascii: "]")) else { return nil }
        if end + 1 == hp.count { return nil }
        if end + 1 != i { return nil }
        j = 1
        k = end + 1
    } else {
        if hp[..<i].contains(UInt8(ascii: ":")) { return nil }
    }
    if hp[j...].contains(UInt8(ascii: "[")) { return nil }
    if hp[k...].contains(UInt8(ascii: "]")) { return nil }
    return hp[(i + 1)...]
}

/// `strings.ToLower(a) == strings.ToLower(b)` (Go maps each rune through unicode.ToLower, a one-to-one
/// simple case mapping). ASCII is exact; other scalars use Swift's lowercase mapping when it is a single
/// scalar, which matches Go's simple mapping for the usual cases.
func goLowercaseEqual(_ a: String, _ b: String) -> Bool {
    if a.utf8.allSatisfy({ $0 < 0x80 }) && b.utf8.allSatisfy({ $0 < 0x80 }) {
        guard a.utf8.count == b.utf8.count else { return false }
        return zip(a.utf8, b.utf8).allSatisfy { x, y in asciiLower(x) == asciiLower(y) }
    }
    return goLower(a) == goLower(b)
}

@inline(__always) func asciiLower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }

func goLower(_ s: String) -> [UInt32] {
    s.unicodeScalars.map { u -> UInt32 in
        if u.value == 0x130 { return 0x69 }  // Go: 'İ' lowers to 'i'
        let m = u.properties.lowercaseMapping.unicodeScalars
        if m.count == 1, let first = m.first { return first.value }
        return u.value
    }
}
