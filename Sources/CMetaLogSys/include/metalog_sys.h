// Linux file calls that Swift's Glibc module does not declare (they need _GNU_SOURCE), for MetaLog.
#ifndef METALOG_SYS_H
#define METALOG_SYS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Starts write-back of bytes [offset, offset + length) of `fd` to the device without waiting for it
/// (sync_file_range with SYNC_FILE_RANGE_WRITE), so that a later fdatasync has less left to do. Promises
/// nothing about durability. Returns 0, or -1 with errno set; returns 0 and does nothing where the call
/// does not exist.
int metalog_start_writeback(int fd, int64_t offset, int64_t length);

#ifdef __cplusplus
}
#endif

#endif
