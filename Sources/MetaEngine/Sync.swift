// Synchronization primitives of the engine: a pthread mutex with condition variables, a reader-writer lock
// for the state machine, and a plain pthread for the engine's own loops (the writer and the apply loop
// block in fdatasync and log reads, which must not tie up Swift's cooperative thread pool).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex (heap allocated so its address never moves).
final class EngineMutex: @unchecked Sendable {
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always) func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) func unlock() { pthread_mutex_unlock(mutex) }
    /// Takes the lock if it is free; false (without waiting) when another thread holds it.
    @inline(__always) func tryLock() -> Bool { pthread_mutex_trylock(mutex) == 0 }

    @inline(__always)
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A condition variable used with one `EngineMutex`.
final class EngineCondition: @unchecked Sendable {
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() { pthread_cond_init(condition, nil) }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
    }

    /// Waits; `mutex` must be held.
    func wait(_ mutex: EngineMutex) { pthread_cond_wait(condition, mutex.mutex) }

    /// Waits at most until the monotonic deadline `deadlineNanos`; returns false on timeout.
    func wait(_ mutex: EngineMutex, untilRealtimeNanos deadline: UInt64) -> Bool {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(condition, mutex.mutex, &ts) == 0
    }

    func signal() { pthread_cond_signal(condition) }
    func broadcast() { pthread_cond_broadcast(condition) }
}

/// Boxes the closure a new pthread runs.
private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// A joinable pthread running `body`.
final class EngineThread: @unchecked Sendable {
    #if canImport(Darwin)
    private var thread: pthread_t?
    #else
    private var thread = pthread_t()
    #endif
    private var joined = false

    /// Starts the thread that plays `role` ("writer", "apply", "snapshot"). Throws
    /// `.threadUnavailable` when the system refuses a new thread (EAGAIN under a thread or memory limit),
    /// or when `refuse` (a test seam, `EngineOptions.refuseThread`) returns an errno for `role`.
    init(role: String, refuse: @Sendable (String) -> Int32? = { _ in nil }, _ body: @escaping @Sendable () -> Void) throws(EngineError) {
        if let code = refuse(role) { throw .threadUnavailable(role: role, errno: code) }
        let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            #if canImport(Darwin)
            let box = Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue()
            #else
            let box = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
            #endif
            box.run()
            return nil
        }, box)
        if rc != 0 {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            joined = true
            throw .threadUnavailable(role: role, errno: rc)
        }
    }

    /// Waits for the thread to end (once; later calls return at once).
    func join() {
        guard !joined else { return }
        joined = true
        #if canImport(Darwin)
        if let thread { pthread_join(thread, nil) }
        #else
        pthread_join(thread, nil)
        #endif
    }
}

/// Nanoseconds on the monotonic clock.
@inline(__always)
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Nanoseconds on the real-time clock (pthread_cond_timedwait's clock; snapshot creation times).
@inline(__always)
func realtimeNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// A one-shot box a synchronous caller blocks on until a callback fills it.
final class BlockingBox<T>: @unchecked Sendable {
    private let mutex = EngineMutex()
    private let condition = EngineCondition()
    private var value: T?

    func put(_ v: T) {
        mutex.withLock {
            value = v
            condition.broadcast()
        }
    }

    func take() -> T {
        mutex.lock()
        defer { mutex.unlock() }
        while true {
            if let v = value { return v }
            condition.wait(mutex)
        }
    }

    /// Waits until filled or the real-time deadline passes.
    func take(untilRealtimeNanos deadline: UInt64) -> T? {
        mutex.lock()
        defer { mutex.unlock() }
        while value == nil {
            if !condition.wait(mutex, untilRealtimeNanos: deadline) { return value }
        }
        return value
    }
}
