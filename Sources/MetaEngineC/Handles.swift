// Opaque handles: a C pointer is an unmanaged reference to one of the boxes here. `*_free` releases the
// box; a closed handle stays allocated until then, so a call on it answers ME_E_CLOSED instead of trapping.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain pthread mutex (the boxes' locks; Synchronization.Mutex needs newer macOS than the package).
final class HandleLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the lock held.
    @inline(__always)
    func run<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// Turns a box into the pointer handed to C (retained once; released by `release`).
func handle<T: AnyObject>(_ box: T) -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(box).toOpaque())
}

/// The box behind a non-NULL handle, or ME_E_ARGUMENT naming `what`.
@inline(__always)
func box<T: AnyObject>(_ p: OpaquePointer?, _ type: T.Type, _ what: String) throws(ABIError) -> T {
    guard let p else { throw ABIError.null(what) }
    return Unmanaged<T>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

/// Drops the reference the handle held; nothing for NULL (so every `*_free` accepts NULL). O(1).
func release<T: AnyObject>(_ p: OpaquePointer?, _ type: T.Type) {
    guard let p else { return }
    Unmanaged<T>.fromOpaque(UnsafeRawPointer(p)).release()
}

/// The out-parameter step of every call that hands back a new handle: throws ME_E_ARGUMENT ("out is
/// NULL") when `out` is NULL, else sets `*out` to NULL (so a failure leaves no stale pointer behind), runs
/// `make` and stores the handle it returns. Throws what `make` throws, `*out` then still NULL. O(1) beyond
/// `make`.
func newHandle(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ make: () throws -> OpaquePointer) throws {
    let out = try required(out, "out")
    out.pointee = nil
    out.pointee = try make()
}
