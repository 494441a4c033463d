import Glibc

/// Counts calls of `malloc`, `calloc` and `realloc` in this process, without LD_PRELOAD: `install()`
/// rewrites the GOT slots of those symbols in every loaded ELF object (the executable, libswiftCore,
/// Foundation, ...) to point at counting wrappers that forward to glibc's `__libc_*` entry points.
///
/// Linux/glibc, 64-bit ELF (x86-64, arm64) only. Objects loaded after `install()` are not patched.
/// The counter is a plain integer: increments from concurrent threads may be lost (the hot paths
/// measured are single-threaded).
enum MallocCounter {
    typealias MallocFn = @convention(c) (Int) -> UnsafeMutableRawPointer?
    typealias CallocFn = @convention(c) (Int, Int) -> UnsafeMutableRawPointer?
    typealias ReallocFn = @convention(c) (UnsafeMutableRawPointer?, Int) -> UnsafeMutableRawPointer?

    /// Calls of malloc, calloc and realloc since `install()` (stays 0 when counting is off).
    nonisolated(unsafe) static var count: Int = 0
    nonisolated(unsafe) static var realMalloc: MallocFn? = nil
    nonisolated(unsafe) static var realCalloc: CallocFn? = nil
    nonisolated(unsafe) static var realRealloc: ReallocFn? = nil
    nonisolated(unsafe) static var patchedSlots = 0

    static let countingMalloc: MallocFn = { size in
        MallocCounter.count &+= 1
        return MallocCounter.realMalloc.unsafelyUnwrapped(size)
    }
    static let countingCalloc: CallocFn = { n, size in
        MallocCounter.count &+= 1
        return MallocCounter.realCalloc.unsafelyUnwrapped(n, size)
    }
    static let countingRealloc: ReallocFn = { pointer, size in
        MallocCounter.count &+= 1
        return MallocCounter.realRealloc.unsafelyUnwrapped(pointer, size)
    }

    /// Patches every loaded object; returns the number of GOT slots rewritten (0: counting is off, which is
    /// always the case in debug builds).
    static func install() -> Int {
        #if DEBUG
        return 0  // lazily initialized globals in unoptimized code can re-enter malloc while patching
        #else
        if patchedSlots > 0 { return patchedSlots }
        guard let m = dlsym(nil, "__libc_malloc"), let c = dlsym(nil, "__libc_calloc"),
              let r = dlsym(nil, "__libc_realloc") else { return 0 }
        realMalloc = unsafeBitCast(m, to: MallocFn.self)
        realCalloc = unsafeBitCast(c, to: CallocFn.self)
        realRealloc = unsafeBitCast(r, to: ReallocFn.self)
        count = 0
        // Touch the wrappers so their lazy globals are initialized before any slot points at them.
        _ = (countingMalloc, countingCalloc, countingRealloc)
        _ = dlIteratePhdr({ info, _, _ in
            guard let info else { return 0 }
            MallocCounter.patchObject(info)
            return 0
        }, nil)
        return patchedSlots
        #endif
    }

    /// Patches one loaded object (`struct dl_phdr_info`: dlpi_addr 8 bytes, dlpi_name 8, dlpi_phdr 8,
    /// dlpi_phnum 2). The dynamic loader and libc itself are left alone.
    static func patchObject(_ info: UnsafeMutableRawPointer) {
        let base = info.load(as: UInt.self)
        guard let namePointer = info.load(fromByteOffset: 8, as: UnsafePointer<CChar>?.self) else { return }
        let name = String(cString: namePointer)
        if name.contains("ld-linux") || name.contains("linux-vdso") || name.contains("/libc.so") { return }
        guard let phdr = info.load(fromByteOffset: 16, as: UnsafeRawPointer?.self) else { return }
        let phnum = Int(info.load(fromByteOffset: 24, as: UInt16.self))
        for i in 0..<phnum {
            let ph = phdr + i * 56  // Elf64_Phdr
            guard ph.load(as: UInt32.self) == 2 else { continue }  // PT_DYNAMIC
            let vaddr = ph.load(fromByteOffset: 16, as: UInt.self)
            if let dynamic = UnsafeRawPointer(bitPattern: base &+ vaddr) { patchDynamic(base: base, dynamic: dynamic) }
        }
    }

    /// Rewrites the JUMP_SLOT / GLOB_DAT relocations of malloc, calloc and realloc found through the
    /// object's dynamic section (Elf64_Dyn 16 bytes, Elf64_Rela 24, Elf64_Sym 24).
    static func patchDynamic(base: UInt, dynamic: UnsafeRawPointer) {
        var strtab: UInt = 0, symtab: UInt = 0, rela: UInt = 0, relasz: UInt = 0, jmprel: UInt = 0, pltrelsz: UInt = 0
        var d = dynamic
        while true {
            let tag = d.load(as: Int64.self)
            let value = d.load(fromByteOffset: 8, as: UInt.self)
            if tag == 0 { break }
            switch tag {
            case 2: pltrelsz = value
            case 5: strtab = value
            case 6: symtab = value
            case 7: rela = value
            case 8: relasz = value
            case 23: jmprel = value
            default: break
            }
            d += 16
        }
        func absolute(_ v: UInt) -> UInt { v < base ? v &+ base : v }
        guard strtab != 0, symtab != 0 else { return }
        guard let str = UnsafeRawPointer(bitPattern: absolute(strtab)),
              let sym = UnsafeRawPointer(bitPattern: absolute(symtab)) else { return }
        for (table, size) in [(rela, relasz), (jmprel, pltrelsz)] where table != 0 && size > 0 {
            guard let rel = UnsafeRawPointer(bitPattern: absolute(table)) else { continue }
            for k in 0..<(Int(size) / 24) {
                let entry = rel + k * 24
                let offset = entry.load(as: UInt.self)
                let info = entry.load(fromByteOffset: 8, as: UInt64.self)
                let type = UInt32(truncatingIfNeeded: info)
                // JUMP_SLOT / GLOB_DAT: x86-64 7 / 6, arm64 1026 / 1025
                guard type == 7 || type == 6 || type == 1026 || type == 1025 else { continue }
                let symIndex = Int(info >> 32)
                guard symIndex != 0 else { continue }
                let nameOffset = Int((sym + symIndex * 24).load(as: UInt32.self))
                let target: UnsafeRawPointer
                switch symbolKind(str + nameOffset) {
                case 1: target = unsafeBitCast(countingMalloc, to: UnsafeRawPointer.self)
                case 2: target = unsafeBitCast(countingCalloc, to: UnsafeRawPointer.self)
                case 3: target = unsafeBitCast(countingRealloc, to: UnsafeRawPointer.self)
                default: continue
                }
                guard let slot = UnsafeMutableRawPointer(bitPattern: base &+ offset) else { continue }
                let page = Int(sysconf(Int32(_SC_PAGESIZE)))
                guard let pageStart = UnsafeMutableRawPointer(bitPattern: Int(bitPattern: slot) & ~(page - 1)) else { continue }
                guard mprotect(pageStart, page, PROT_READ | PROT_WRITE) == 0 else { continue }
                slot.storeBytes(of: target, as: UnsafeRawPointer.self)
                patchedSlots += 1
            }
        }
    }

    /// 1 malloc, 2 calloc, 3 realloc, 0 anything else.
    static func symbolKind(_ p: UnsafeRawPointer) -> Int {
        let c = p.assumingMemoryBound(to: CChar.self)
        if strcmp(c, "malloc") == 0 { return 1 }
        if strcmp(c, "calloc") == 0 { return 2 }
        if strcmp(c, "realloc") == 0 { return 3 }
        return 0
    }
}

@_silgen_name("dl_iterate_phdr")
func dlIteratePhdr(
    _ callback: @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeMutableRawPointer?) -> Int32,
    _ data: UnsafeMutableRawPointer?) -> Int32
