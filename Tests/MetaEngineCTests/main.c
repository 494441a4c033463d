/*
 * Plain C test of the MetaEngineC ABI: every function in metaengine.h, success and error paths, with
 * exact bytes, codes and indexes. Built and run by `make c-test` (part of `make test`).
 *
 * usage: metaengine_test SCRATCH_DIR FIXTURE_DIR ETCD_FIXTURE_DIR
 *   SCRATCH_DIR       an empty directory the test may fill (removed by the Makefile afterwards)
 *   FIXTURE_DIR       Fixtures/influxdb (reads case-003.commands/.expect.json/.data.pb)
 *   ETCD_FIXTURE_DIR  Fixtures/etcd (reads case-004.commands/.expect.jsonl)
 * The last line of output is "N passed, M failed"; the exit status is 0 only when M is 0.
 */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int passed, failed;
me_error *err;
static me_error scratch_error;
static char scratch[1024];

const char *path(const char *name) {
    static char buf[2][1200];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof buf[which], "%s/%s", scratch, name);
    return buf[which];
}

unsigned char *read_file(const char *dir, const char *name, size_t *len) {
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (!f) { printf("cannot open %s\n", p); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) { printf("short read %s\n", p); exit(2); }
    fclose(f);
    *len = (size_t)n;
    return b;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s SCRATCH_DIR FIXTURE_DIR ETCD_FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    snprintf(scratch, sizeof scratch, "%s", argv[1]);
    err = &scratch_error;
    CHECK(strcmp(me_version(), "MetaEngineC 1") == 0, "version");
    CHECK(strcmp(me_code_name(ME_E_CLOSED), "ME_E_CLOSED") == 0, "code name");
    CHECK(strcmp(me_code_name(1000), "ME_E_UNKNOWN") == 0, "unknown code name");
    test_log();
    test_snapshots();
    test_influx(argv[2]);
    test_log_raft();
    test_engine(argv[2]);
    test_kv(argv[3]);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
