// The entry point the fuzz executables (SnapshotFuzz, InfluxFuzz, LogFuzz) share. Built with
// `-sanitize=fuzzer -DSNAPSHOT_FUZZ` (`make fuzz`) it hands control to libFuzzer's driver; a plain build replays
// the files named on the command line, so a crashing input can be rerun under a debugger.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

#if SNAPSHOT_FUZZ
/// libFuzzer's driver (libclang_rt.fuzzer). SwiftPM routes `main` to the executable's own entry point, so that
/// entry point calls the driver instead of relying on libFuzzer's `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

/// Runs a fuzz target: libFuzzer in a fuzzer build, a replay of files otherwise.
public enum FuzzDriver {
    /// In a fuzzer build, runs libFuzzer's driver over `testOneInput` (the executable's
    /// `LLVMFuzzerTestOneInput`) with the process's own arguments and exits with its status. In a plain build,
    /// reads each file of `paths` and passes its bytes to `fuzzOne`, printing one line per file.
    /// Throws when a file cannot be read. Cost: one read of each file.
    public static func run(
        testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt,
        replaying paths: [String], with fuzzOne: ([UInt8]) -> Void
    ) throws {
        #if SNAPSHOT_FUZZ
        var argc = CommandLine.argc
        var argv = Optional(CommandLine.unsafeArgv)
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
        #else
        for path in paths {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            fuzzOne(bytes)
            print("\(path): \(bytes.count) bytes, no trap")
        }
        #endif
    }
}
