// CRC32C: a slicing-by-8 table path, and hardware paths that run three independent CRC streams
// in parallel (the crc32 instruction has a latency of 3 cycles and a throughput of 1 per cycle)
// and join them with precomputed "append n zero bytes" operators.
#include "ccrc32c.h"

#include <string.h>

#define POLY 0x82f63b78u

static uint32_t table8[8][256];

static void build_tables(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ POLY : crc >> 1;
        table8[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = table8[0][n];
        for (int k = 1; k < 8; k++) {
            crc = table8[0][crc & 0xff] ^ (crc >> 8);
            table8[k][n] = crc;
        }
    }
}

static uint32_t portable_raw(uint32_t crc, const unsigned char *p, size_t len) {
    while (len && ((uintptr_t)p & 7)) {
        crc = table8[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        len--;
    }
    while (len >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= crc;  // little-endian hosts only use this path with the low word holding the CRC
        crc = table8[7][word & 0xff] ^ table8[6][(word >> 8) & 0xff] ^
              table8[5][(word >> 16) & 0xff] ^ table8[4][(word >> 24) & 0xff] ^
              table8[3][(word >> 32) & 0xff] ^ table8[2][(word >> 40) & 0xff] ^
              table8[1][(word >> 48) & 0xff] ^ table8[0][word >> 56];
        p += 8;
        len -= 8;
    }
    while (len--) crc = table8[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

// ---- zero-append operators, used to join parallel streams ----------------------------------------
// A CRC register advanced over n zero bytes is a linear function of the register; it is stored as
// four 256-entry tables (one per register byte).

#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

static uint32_t long_shift[4][256];
static uint32_t short_shift[4][256];

static uint32_t gf2_times(const uint32_t *mat, uint32_t vec) {
    uint32_t sum = 0;
    while (vec) {
        if (vec & 1) sum ^= *mat;
        vec >>= 1;
        mat++;
    }
    return sum;
}

static void gf2_square(uint32_t *square, const uint32_t *mat) {
    for (int n = 0; n < 32; n++) square[n] = gf2_times(mat, mat[n]);
}

// Builds the 32x32 operator for appending `len` zero bytes to a raw CRC register.
static void zeros_operator(uint32_t *even, size_t len) {
    uint32_t odd[32];
    odd[0] = POLY;  // operator for one zero bit
    uint32_t row = 1;
    for (int n = 1; n < 32; n++) {
        odd[n] = row;
        row <<= 1;
    }
    gf2_square(even, odd);  // two zero bits
    gf2_square(odd, even);  // four zero bits
    // Each pass squares: first pass gives one zero byte in `even`.
    do {
        gf2_square(even, odd);
        len >>= 1;
        if (len == 0) return;
        gf2_square(odd, even);
        len >>= 1;
    } while (len);
    memcpy(even, odd, sizeof(odd));
}

static void zeros_table(uint32_t zeros[4][256], size_t len) {
    uint32_t op[32];
    zeros_operator(op, len);
    for (uint32_t n = 0; n < 256; n++) {
        zeros[0][n] = gf2_times(op, n);
        zeros[1][n] = gf2_times(op, n << 8);
        zeros[2][n] = gf2_times(op, n << 16);
        zeros[3][n] = gf2_times(op, n << 24);
    }
}

static inline uint32_t shift_crc(uint32_t zeros[4][256], uint32_t crc) {
    return zeros[0][crc & 0xff] ^ zeros[1][(crc >> 8) & 0xff] ^ zeros[2][(crc >> 16) & 0xff] ^
           zeros[3][crc >> 24];
}

// ---- hardware paths -------------------------------------------------------------------------------

#if defined(__x86_64__)
#include <cpuid.h>
#define HW_TARGET __attribute__((target("sse4.2")))
#define HW_CRC8(c, v) __builtin_ia32_crc32qi((c), (v))
#define HW_CRC32(c, v) __builtin_ia32_crc32si((c), (v))
#define HW_CRC64(c, v) __builtin_ia32_crc32di((c), (v))
static int cpu_has_hw(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & bit_SSE4_2) != 0;
}
#define HAVE_HW 1
#elif defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#define HW_TARGET __attribute__((target("crc")))
#define HW_CRC8(c, v) __builtin_arm_crc32cb((c), (v))
#define HW_CRC32(c, v) __builtin_arm_crc32cw((c), (v))
#define HW_CRC64(c, v) __builtin_arm_crc32cd((c), (v))
static int cpu_has_hw(void) { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }
#define HAVE_HW 1
#else
#define HAVE_HW 0
#endif

#if HAVE_HW
// One 4-byte step: extends `crc` over the 4 bytes at *p and moves *p and *len past them.
HW_TARGET static inline uint32_t hw_word4(uint32_t crc, const unsigned char **p, size_t *len) {
    uint32_t w;
    memcpy(&w, *p, 4);
    *p += 4;
    *len -= 4;
    return HW_CRC32(crc, w);
}

HW_TARGET static uint32_t hw_raw(uint32_t crc0, const unsigned char *p, size_t len) {
    // To an 8-byte boundary: bytes to a 4-byte one, then one 4-byte step (a log frame's checksum starts
    // 4 bytes into the frame and covers 4 + 8k bytes).
    while (len && ((uintptr_t)p & 3)) {
        crc0 = HW_CRC8(crc0, *p++);
        len--;
    }
    if (len >= 4 && ((uintptr_t)p & 4)) crc0 = hw_word4(crc0, &p, &len);
    // Three streams over blocks of LONG_BLOCK bytes each, then of SHORT_BLOCK.
    while (len >= 3 * LONG_BLOCK) {
        uint64_t crc1 = 0, crc2 = 0, c0 = crc0;
        const unsigned char *end = p + LONG_BLOCK;
        do {
            uint64_t a, b, c;
            memcpy(&a, p, 8);
            memcpy(&b, p + LONG_BLOCK, 8);
            memcpy(&c, p + 2 * LONG_BLOCK, 8);
            c0 = HW_CRC64(c0, a);
            crc1 = HW_CRC64(crc1, b);
            crc2 = HW_CRC64(crc2, c);
            p += 8;
        } while (p < end);
        crc0 = shift_crc(long_shift, (uint32_t)c0) ^ (uint32_t)crc1;
        crc0 = shift_crc(long_shift, crc0) ^ (uint32_t)crc2;
        p += 2 * LONG_BLOCK;
        len -= 3 * LONG_BLOCK;
    }
    while (len >= 3 * SHORT_BLOCK) {
        uint64_t crc1 = 0, crc2 = 0, c0 = crc0;
        const unsigned char *end = p + SHORT_BLOCK;
        do {
            uint64_t a, b, c;
            memcpy(&a, p, 8);
            memcpy(&b, p + SHORT_BLOCK, 8);
            memcpy(&c, p + 2 * SHORT_BLOCK, 8);
            c0 = HW_CRC64(c0, a);
            crc1 = HW_CRC64(crc1, b);
            crc2 = HW_CRC64(crc2, c);
            p += 8;
        } while (p < end);
        crc0 = shift_crc(short_shift, (uint32_t)c0) ^ (uint32_t)crc1;
        crc0 = shift_crc(short_shift, crc0) ^ (uint32_t)crc2;
        p += 2 * SHORT_BLOCK;
        len -= 3 * SHORT_BLOCK;
    }
    uint64_t c0 = crc0;
    while (len >= 8) {
        uint64_t a;
        memcpy(&a, p, 8);
        c0 = HW_CRC64(c0, a);
        p += 8;
        len -= 8;
    }
    crc0 = (uint32_t)c0;
    if (len >= 4) crc0 = hw_word4(crc0, &p, &len);
    while (len--) crc0 = HW_CRC8(crc0, *p++);
    return crc0;
}
#endif

#if HAVE_HW
// Four independent streams in lockstep over their common length, 8 bytes per step each: the crc32
// instruction's latency is hidden behind the other three streams, so short buffers (log frames) cost
// about a quarter of four sequential passes. Each stream then finishes its own tail.
HW_TARGET static void hw_raw4(uint32_t crc[4], const unsigned char *const data[4], const size_t len[4]) {
    size_t common = len[0];
    for (int i = 1; i < 4; i++) if (len[i] < common) common = len[i];
    common &= ~(size_t)7;
    uint64_t c0 = crc[0], c1 = crc[1], c2 = crc[2], c3 = crc[3];
    const unsigned char *p0 = data[0], *p1 = data[1], *p2 = data[2], *p3 = data[3];
    for (size_t i = 0; i < common; i += 8) {
        uint64_t a, b, c, d;
        memcpy(&a, p0 + i, 8);
        memcpy(&b, p1 + i, 8);
        memcpy(&c, p2 + i, 8);
        memcpy(&d, p3 + i, 8);
        c0 = HW_CRC64(c0, a);
        c1 = HW_CRC64(c1, b);
        c2 = HW_CRC64(c2, c);
        c3 = HW_CRC64(c3, d);
    }
    crc[0] = hw_raw((uint32_t)c0, p0 + common, len[0] - common);
    crc[1] = hw_raw((uint32_t)c1, p1 + common, len[1] - common);
    crc[2] = hw_raw((uint32_t)c2, p2 + common, len[2] - common);
    crc[3] = hw_raw((uint32_t)c3, p3 + common, len[3] - common);
}
#endif

// ---- dispatch ------------------------------------------------------------------------------------

#include <pthread.h>

static int use_hw;
static pthread_once_t init_control = PTHREAD_ONCE_INIT;

static void init_once(void) {
    build_tables();
    zeros_table(long_shift, LONG_BLOCK);
    zeros_table(short_shift, SHORT_BLOCK);
#if HAVE_HW
    use_hw = cpu_has_hw();
#else
    use_hw = 0;
#endif
}

uint32_t crc32c_extend(uint32_t crc, const void *data, size_t len) {
    pthread_once(&init_control, init_once);
#if HAVE_HW
    if (use_hw) return ~hw_raw(~crc, (const unsigned char *)data, len);
#endif
    return ~portable_raw(~crc, (const unsigned char *)data, len);
}

void crc32c_extend4(uint32_t crc[4], const void *const data[4], const size_t len[4]) {
    pthread_once(&init_control, init_once);
    uint32_t raw[4] = {~crc[0], ~crc[1], ~crc[2], ~crc[3]};
    const unsigned char *bytes[4] = {data[0], data[1], data[2], data[3]};
#if HAVE_HW
    if (use_hw) {
        hw_raw4(raw, bytes, len);
    } else
#endif
    {
        for (int i = 0; i < 4; i++) raw[i] = portable_raw(raw[i], bytes[i], len[i]);
    }
    for (int i = 0; i < 4; i++) crc[i] = ~raw[i];
}

uint32_t crc32c_extend_portable(uint32_t crc, const void *data, size_t len) {
    pthread_once(&init_control, init_once);
    return ~portable_raw(~crc, (const unsigned char *)data, len);
}

int crc32c_hardware_available(void) {
    pthread_once(&init_control, init_once);
    return use_hw;
}
