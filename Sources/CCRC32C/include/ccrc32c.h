// CRC32C (Castagnoli, reflected polynomial 0x82F63B78) for MetaEngine.
//
// The hardware path (SSE4.2 on x86-64, ARMv8 CRC on arm64) is chosen once at run time; a portable
// slicing-by-8 table path is used everywhere else. All paths give identical results.
#ifndef CCRC32C_H
#define CCRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Extends `crc` (0 for a fresh checksum) over `len` bytes at `data`. Pre- and post-conditioning
/// (the ~ of the register) are handled inside: `crc32c_extend(crc32c_extend(0, a), b)` equals the
/// CRC of a followed by b. "123456789" gives 0xE3069283.
uint32_t crc32c_extend(uint32_t crc, const void *data, size_t len);

/// Four independent `crc32c_extend`s at once: `crc[i]` becomes `crc32c_extend(crc[i], data[i], len[i])`.
/// The hardware path runs the four in lockstep, so four short buffers (log frames of a few hundred
/// bytes) cost about what one does; lengths may differ.
void crc32c_extend4(uint32_t crc[4], const void *const data[4], const size_t len[4]);

/// `crc32c_extend`'s result computed with the portable table code only (for tests and as the fallback).
uint32_t crc32c_extend_portable(uint32_t crc, const void *data, size_t len);

/// 1 if the hardware path is in use on this CPU, else 0.
int crc32c_hardware_available(void);

#ifdef __cplusplus
}
#endif

#endif
