/* Shared by the C ABI test's files: pass/fail counters and the CHECK / EXPECT macros. */
#ifndef METAENGINE_TEST_CHECK_H
#define METAENGINE_TEST_CHECK_H

#include "metaengine.h"

#include <stddef.h>
#include <stdio.h>

extern int passed, failed;
/* Every EXPECT'd call writes its error here. */
extern me_error *err;

#define CHECK(cond, ...)                                        \
    do {                                                        \
        if (cond) {                                             \
            passed++;                                           \
        } else {                                                \
            failed++;                                           \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);         \
            printf(__VA_ARGS__);                                \
            printf("\n");                                       \
        }                                                       \
    } while (0)

/* Checks that `call` answered `want`, that the me_error agrees, and that a failure has a message. */
#define EXPECT(want, call)                                                                         \
    do {                                                                                           \
        me_error e_ = {-1, "unset"};                                                               \
        int got_ = call_with(&e_, (call));                                                         \
        CHECK(got_ == (want) && e_.code == got_, "%s: want %s, got %s (%s)", #call,               \
              me_code_name(want), me_code_name(got_), e_.message);                                 \
        if ((want) != ME_OK) CHECK(e_.message[0] != 0, "%s: empty message", #call);                \
    } while (0)

/* Copies the error the call just wrote into `e` and passes its code through. */
static inline int call_with(me_error *e, int rc) {
    *e = *err;
    return rc;
}

/* SCRATCH_DIR/name (two results may be alive at once). */
const char *path(const char *name);
/* The bytes of dir/name (exits with status 2 when it cannot be read). */
unsigned char *read_file(const char *dir, const char *name, size_t *len);

/* The elements of a fixture's expect.json array: NULL for null, else a malloc'd string. */
char **parse_expect(const unsigned char *json, size_t len, size_t *count);

void test_log(void);
void test_log_raft(void);
void test_engine(const char *fixtures);
void test_kv(const char *etcd_fixtures);
void test_snapshots(void);
void test_influx(const char *fixtures);

#endif
