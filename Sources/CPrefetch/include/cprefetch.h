// A cache prefetch hint for Swift, which has no intrinsic for it. A prefetch never faults, so the address
// may be stale (memory freed since) or null: the worst it does is load a line nobody reads.
#ifndef CPREFETCH_H
#define CPREFETCH_H

/// Starts loading the cache line holding `address` for reading; returns at once.
static inline void cprefetch_read(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
