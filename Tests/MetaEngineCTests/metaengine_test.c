/*
 * Plain C test of the MetaEngineC ABI: every function in metaengine.h, success and error paths, with
 * exact bytes, codes and indexes. Built and run by `make c-test` (part of `make test`).
 *
 * usage: metaengine_test SCRATCH_DIR FIXTURE_DIR
 *   SCRATCH_DIR  an empty directory the test may fill (removed by the Makefile afterwards)
 *   FIXTURE_DIR  Fixtures/influxdb (reads case-003.commands/.expect.json/.data.pb)
 * The last line of output is "N passed, M failed"; the exit status is 0 only when M is 0.
 */
#include "metaengine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int passed, failed;

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

/* Checks that `call` answered `want`, and that the error struct agrees with it. */
#define EXPECT(want, call)                                                                         \
    do {                                                                                           \
        me_error e_ = {-1, "unset"};                                                               \
        int got_ = call_with(&e_, (call));                                                         \
        CHECK(got_ == (want) && e_.code == got_, "%s: want %s, got %s (%s)", #call,               \
              me_code_name(want), me_code_name(got_), e_.message);                                 \
        if ((want) != ME_OK) CHECK(e_.message[0] != 0, "%s: empty message", #call);                \
    } while (0)

/* EXPECT's calls write through the global `err` pointer; this copies the result out. */
static me_error *err;
static int call_with(me_error *e, int rc) {
    *e = *err;
    return rc;
}
static me_error scratch_error;

static char scratch[1024];
static const char *path(const char *name) {
    static char buf[2][1200];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof buf[which], "%s/%s", scratch, name);
    return buf[which];
}

static unsigned char *read_file(const char *dir, const char *name, size_t *len) {
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

/* ---- log ---- */

static void test_log(void) {
    me_log *log = NULL, *other = NULL;
    EXPECT(ME_E_ARGUMENT, me_log_open(NULL, 0, ME_SYNC_EVERY_APPEND, &log, err));
    EXPECT(ME_E_ARGUMENT, me_log_open(path("log"), 0, 7, &log, err));
    CHECK(log == NULL, "no handle after a failed open");
    EXPECT(ME_E_ARGUMENT, me_log_open(path("log"), 100, ME_SYNC_EVERY_APPEND, &log, err));
    EXPECT(ME_E_ARGUMENT, me_log_open(path("log"), 0, ME_SYNC_EVERY_APPEND, NULL, err));
    EXPECT(ME_OK, me_log_open(path("log"), 4096, ME_GROUP_COMMIT, &log, err));
    EXPECT(ME_E_LOCKED, me_log_open(path("log"), 4096, ME_GROUP_COMMIT, &other, err));

    uint64_t v = 99;
    EXPECT(ME_OK, me_log_first_index(log, &v, err));
    CHECK(v == 1, "new log first index 1, got %llu", (unsigned long long)v);
    EXPECT(ME_OK, me_log_last_index(log, &v, err));
    CHECK(v == 0, "new log last index 0, got %llu", (unsigned long long)v);

    uint64_t terms[3] = {1, 1, 2};
    uint8_t kinds[3] = {0, 5, 9};
    uint32_t lengths[3] = {3, 0, 5};
    const char *payloads = "abcHELLO";
    uint64_t last = 0;
    EXPECT(ME_E_ARGUMENT, me_log_append(log, 0, 0, terms, kinds, lengths, payloads, &last, err));
    EXPECT(ME_E_ARGUMENT, me_log_append(log, 0, 3, NULL, kinds, lengths, payloads, &last, err));
    EXPECT(ME_E_ARGUMENT, me_log_append(log, 0, 3, terms, kinds, NULL, payloads, &last, err));
    EXPECT(ME_E_ARGUMENT, me_log_append(log, 0, 3, terms, kinds, lengths, NULL, &last, err));
    EXPECT(ME_OK, me_log_append(log, 0, 3, terms, kinds, lengths, payloads, &last, err));
    CHECK(last == 3, "append of 3 ends at 3, got %llu", (unsigned long long)last);
    EXPECT(ME_E_NON_CONTIGUOUS, me_log_append(log, 7, 1, terms, NULL, lengths, payloads, &last, err));
    uint64_t t4 = 3;
    uint32_t l4 = 4;
    EXPECT(ME_OK, me_log_append(log, 4, 1, &t4, NULL, &l4, "four", &last, err));
    CHECK(last == 4, "append at 4 ends at 4");
    EXPECT(ME_OK, me_log_durable_index(log, &v, err));
    CHECK(v == 4, "group commit: durable index = last index 4, got %llu", (unsigned long long)v);

    uint64_t term = 0;
    uint8_t kind = 0;
    char buf[64];
    size_t len = 0;
    EXPECT(ME_OK, me_log_entry(log, 3, &term, &kind, buf, sizeof buf, &len, err));
    CHECK(term == 2 && kind == 9 && len == 5 && memcmp(buf, "HELLO", 5) == 0, "entry 3 is (2, 9, HELLO)");
    EXPECT(ME_OK, me_log_entry(log, 2, &term, &kind, NULL, 0, &len, err));
    CHECK(term == 1 && kind == 5 && len == 0, "entry 2 is (1, 5, empty)");
    EXPECT(ME_E_BUFFER_TOO_SMALL, me_log_entry(log, 3, &term, &kind, buf, 4, &len, err));
    CHECK(len == 5, "too small: len still says 5, got %zu", len);
    EXPECT(ME_E_UNAVAILABLE, me_log_entry(log, 5, &term, &kind, buf, sizeof buf, &len, err));
    EXPECT(ME_E_ARGUMENT, me_log_entry(log, 1, &term, &kind, buf, sizeof buf, NULL, err));
    EXPECT(ME_OK, me_log_term_at(log, 4, &term, err));
    CHECK(term == 3, "term at 4 is 3");
    EXPECT(ME_E_UNAVAILABLE, me_log_term_at(log, 9, &term, err));
    EXPECT(ME_E_ARGUMENT, me_log_term_at(log, 1, NULL, err));

    me_entries *es = NULL;
    EXPECT(ME_OK, me_log_read(log, 1, 0, 0, &es, err));
    CHECK(es && es->count == 4 && es->first_index == 1, "read 1.. gives 4 entries");
    if (es && es->count == 4) {
        CHECK(es->terms[0] == 1 && es->terms[2] == 2 && es->terms[3] == 3, "read terms");
        CHECK(es->kinds[1] == 5 && es->kinds[2] == 9, "read kinds");
        CHECK(es->offsets[0] == 0 && es->offsets[1] == 3 && es->offsets[2] == 3 && es->offsets[3] == 8 &&
                  es->offsets[4] == 12,
              "read offsets");
        CHECK(memcmp(es->payload, "abcHELLOfour", 12) == 0, "read payload bytes");
    }
    me_entries_free(es);
    EXPECT(ME_OK, me_log_read(log, 2, 2, 0, &es, err));
    CHECK(es && es->count == 2 && es->first_index == 2 && es->offsets[2] == 5, "read 2.. max 2");
    me_entries_free(es);
    EXPECT(ME_OK, me_log_read(log, 3, 0, 1, &es, err));
    CHECK(es && es->count == 1, "max_bytes 1 still gives one entry");
    me_entries_free(es);
    me_entries_free(NULL);
    EXPECT(ME_E_UNAVAILABLE, me_log_read(log, 5, 0, 0, &es, err));
    CHECK(es == NULL, "no entries after a failed read");
    EXPECT(ME_E_ARGUMENT, me_log_read(log, 1, 0, 0, NULL, err));

    EXPECT(ME_OK, me_log_truncate_after(log, 2, err));
    EXPECT(ME_OK, me_log_last_index(log, &v, err));
    CHECK(v == 2, "truncate after 2: last 2");
    EXPECT(ME_OK, me_log_remove_prefix(log, 1, err));
    EXPECT(ME_OK, me_log_first_index(log, &v, err));
    CHECK(v == 2, "remove prefix through 1: first 2");
    EXPECT(ME_E_COMPACTED, me_log_entry(log, 1, &term, &kind, buf, sizeof buf, &len, err));
    EXPECT(ME_E_COMPACTED, me_log_truncate_after(log, 0, err));
    EXPECT(ME_OK, me_log_sync(log, err));

    /* hard state and named values */
    me_hard_state hs = {7, 3, 2}, got = {0, 0, 0};
    EXPECT(ME_OK, me_log_hard_state(log, &got, err));
    CHECK(got.term == 0 && got.vote == 0 && got.commit == 0, "hard state starts zero");
    EXPECT(ME_OK, me_log_set_hard_state(log, &hs, err));
    EXPECT(ME_E_ARGUMENT, me_log_set_hard_state(log, NULL, err));
    EXPECT(ME_E_ARGUMENT, me_log_hard_state(log, NULL, err));
    EXPECT(ME_OK, me_log_value_set(log, "CurrentTerm", 11, "\x05\0\0\0\0\0\0\0", 8, err));
    EXPECT(ME_OK, me_log_value_set(log, "LastVoteCand", 12, "127.0.0.1:1", 11, err));
    EXPECT(ME_OK, me_log_value_set(log, "Empty", 5, NULL, 0, err));
    EXPECT(ME_OK, me_log_value_set(log, "LastVoteCand", 12, "127.0.0.1:2", 11, err));
    EXPECT(ME_E_ARGUMENT, me_log_value_set(log, "", 0, "x", 1, err));
    EXPECT(ME_E_ARGUMENT, me_log_value_set(log, NULL, 3, "x", 1, err));
    EXPECT(ME_E_ARGUMENT, me_log_value_set(log, "k", 1, NULL, 1, err));
    EXPECT(ME_OK, me_log_value_get(log, "LastVoteCand", 12, buf, sizeof buf, &len, err));
    CHECK(len == 11 && memcmp(buf, "127.0.0.1:2", 11) == 0, "value overwritten");
    EXPECT(ME_OK, me_log_value_get(log, "Empty", 5, NULL, 0, &len, err));
    CHECK(len == 0, "empty value");
    EXPECT(ME_E_BUFFER_TOO_SMALL, me_log_value_get(log, "CurrentTerm", 11, buf, 2, &len, err));
    CHECK(len == 8, "too small value: len 8");
    EXPECT(ME_E_NOT_FOUND, me_log_value_get(log, "Missing", 7, buf, sizeof buf, &len, err));
    EXPECT(ME_OK, me_log_value_delete(log, "Empty", 5, err));
    EXPECT(ME_E_NOT_FOUND, me_log_value_delete(log, "Empty", 5, err));
    EXPECT(ME_E_NOT_FOUND, me_log_value_get(log, "Empty", 5, buf, sizeof buf, &len, err));
    EXPECT(ME_OK, me_log_hard_state(log, &got, err));
    CHECK(got.term == 7 && got.vote == 3 && got.commit == 2, "values keep the hard state");

    /* reopen: everything came back */
    EXPECT(ME_OK, me_log_close(log, err));
    EXPECT(ME_OK, me_log_close(log, err));
    me_log_free(log);
    EXPECT(ME_OK, me_log_open(path("log"), 4096, ME_MANUAL_SYNC, &log, err));
    EXPECT(ME_OK, me_log_hard_state(log, &got, err));
    CHECK(got.term == 7 && got.vote == 3 && got.commit == 2, "hard state survives reopen");
    EXPECT(ME_OK, me_log_value_get(log, "CurrentTerm", 11, buf, sizeof buf, &len, err));
    CHECK(len == 8 && buf[0] == 5, "value survives reopen");
    EXPECT(ME_OK, me_log_first_index(log, &v, err));
    CHECK(v == 2, "first index survives reopen");
    EXPECT(ME_OK, me_log_entry(log, 2, &term, &kind, buf, sizeof buf, &len, err));
    CHECK(term == 1 && kind == 5 && len == 0, "entry 2 survives reopen");

    /* manual durability: durable index moves on sync only */
    EXPECT(ME_OK, me_log_append(log, 3, 1, &t4, NULL, &l4, "five", &last, err));
    EXPECT(ME_OK, me_log_durable_index(log, &v, err));
    CHECK(v == 2, "manual: not durable before sync, got %llu", (unsigned long long)v);
    EXPECT(ME_OK, me_log_sync(log, err));
    EXPECT(ME_OK, me_log_durable_index(log, &v, err));
    CHECK(v == 3, "manual: durable after sync, got %llu", (unsigned long long)v);
    EXPECT(ME_OK, me_log_remove_prefix(log, 10, err));
    EXPECT(ME_OK, me_log_first_index(log, &v, err));
    CHECK(v == 11, "remove past the end: first 11");
    EXPECT(ME_OK, me_log_last_index(log, &v, err));
    CHECK(v == 10, "remove past the end: last 10");
    EXPECT(ME_OK, me_log_append(log, 11, 1, &t4, NULL, &l4, "elev", &last, err));
    CHECK(last == 11, "append continues at 11");

    /* a closed handle answers ME_E_CLOSED everywhere */
    EXPECT(ME_OK, me_log_close(log, err));
    EXPECT(ME_E_CLOSED, me_log_append(log, 0, 1, &t4, NULL, &l4, "x123", &last, err));
    EXPECT(ME_E_CLOSED, me_log_sync(log, err));
    EXPECT(ME_E_CLOSED, me_log_entry(log, 11, &term, &kind, buf, sizeof buf, &len, err));
    EXPECT(ME_E_CLOSED, me_log_read(log, 11, 0, 0, &es, err));
    EXPECT(ME_E_CLOSED, me_log_first_index(log, &v, err));
    EXPECT(ME_E_CLOSED, me_log_last_index(log, &v, err));
    EXPECT(ME_E_CLOSED, me_log_durable_index(log, &v, err));
    EXPECT(ME_E_CLOSED, me_log_term_at(log, 11, &term, err));
    EXPECT(ME_E_CLOSED, me_log_truncate_after(log, 10, err));
    EXPECT(ME_E_CLOSED, me_log_remove_prefix(log, 11, err));
    EXPECT(ME_E_CLOSED, me_log_hard_state(log, &got, err));
    EXPECT(ME_E_CLOSED, me_log_set_hard_state(log, &hs, err));
    EXPECT(ME_E_CLOSED, me_log_value_set(log, "k", 1, "v", 1, err));
    EXPECT(ME_E_CLOSED, me_log_value_get(log, "CurrentTerm", 11, buf, sizeof buf, &len, err));
    EXPECT(ME_E_CLOSED, me_log_value_delete(log, "CurrentTerm", 11, err));
    me_log_free(log);

    /* a NULL handle answers ME_E_ARGUMENT everywhere */
    EXPECT(ME_E_ARGUMENT, me_log_close(NULL, err));
    EXPECT(ME_E_ARGUMENT, me_log_append(NULL, 0, 1, &t4, NULL, &l4, "x123", &last, err));
    EXPECT(ME_E_ARGUMENT, me_log_sync(NULL, err));
    EXPECT(ME_E_ARGUMENT, me_log_entry(NULL, 1, &term, &kind, buf, sizeof buf, &len, err));
    EXPECT(ME_E_ARGUMENT, me_log_read(NULL, 1, 0, 0, &es, err));
    EXPECT(ME_E_ARGUMENT, me_log_first_index(NULL, &v, err));
    EXPECT(ME_E_ARGUMENT, me_log_last_index(NULL, &v, err));
    EXPECT(ME_E_ARGUMENT, me_log_durable_index(NULL, &v, err));
    EXPECT(ME_E_ARGUMENT, me_log_term_at(NULL, 1, &term, err));
    EXPECT(ME_E_ARGUMENT, me_log_truncate_after(NULL, 1, err));
    EXPECT(ME_E_ARGUMENT, me_log_remove_prefix(NULL, 1, err));
    EXPECT(ME_E_ARGUMENT, me_log_hard_state(NULL, &got, err));
    EXPECT(ME_E_ARGUMENT, me_log_set_hard_state(NULL, &hs, err));
    EXPECT(ME_E_ARGUMENT, me_log_value_set(NULL, "k", 1, "v", 1, err));
    EXPECT(ME_E_ARGUMENT, me_log_value_get(NULL, "k", 1, buf, sizeof buf, &len, err));
    EXPECT(ME_E_ARGUMENT, me_log_value_delete(NULL, "k", 1, err));
    me_log_free(NULL);

    /* errors are optional */
    CHECK(me_log_sync(NULL, NULL) == ME_E_ARGUMENT, "NULL me_error is allowed");

    /* a corrupted sealed segment is named on open */
    EXPECT(ME_OK, me_log_open(path("log2"), 4096, ME_SYNC_EVERY_APPEND, &log, err));
    uint64_t ts[64];
    uint32_t ls[64];
    static char big[64 * 200];
    for (int i = 0; i < 64; i++) { ts[i] = 1; ls[i] = 200; }
    memset(big, 'z', sizeof big);
    EXPECT(ME_OK, me_log_append(log, 0, 16, ts, NULL, ls, big, &last, err));
    EXPECT(ME_OK, me_log_append(log, 0, 16, ts, NULL, ls, big, &last, err));
    me_log_free(log);
    char seg[1300];
    snprintf(seg, sizeof seg, "%s", path("log2/0000000000000001-00000000000000000001.seg"));
    FILE *f = fopen(seg, "r+b");
    if (!f) {
        /* segment naming differs: find the first segment file via the index file listing */
        CHECK(0, "expected segment file %s", seg);
    } else {
        fseek(f, 200, SEEK_SET);
        fputc('Q', f);
        fclose(f);
        EXPECT(ME_OK, me_log_open(path("log2"), 4096, ME_SYNC_EVERY_APPEND, &log, err));
        EXPECT(ME_E_CORRUPT, me_log_entry(log, 1, &term, &kind, big, sizeof big, &len, err));
        CHECK(strstr(err->message, "00000000000000000001.seg") != NULL, "corruption names the file: %s", err->message);
        me_log_free(log);
    }
}

/* ---- snapshots ---- */

static void test_snapshots(void) {
    me_snapstore *store = NULL, *other = NULL;
    me_snapwriter *w = NULL;
    me_snapreader *r = NULL;
    me_snapreceiver *rcv = NULL;
    EXPECT(ME_E_ARGUMENT, me_snapstore_open(NULL, &store, err));
    EXPECT(ME_E_ARGUMENT, me_snapstore_open(path("snaps"), NULL, err));
    EXPECT(ME_OK, me_snapstore_open(path("snaps"), &store, err));
    EXPECT(ME_OK, me_snapstore_open(path("snaps2"), &other, err));

    size_t count = 99;
    EXPECT(ME_OK, me_snapstore_list(store, NULL, 0, &count, err));
    CHECK(count == 0, "empty store lists nothing");

    static unsigned char body[300000];
    for (size_t i = 0; i < sizeof body; i++) body[i] = (unsigned char)(i * 7 + i / 1000);
    EXPECT(ME_E_ARGUMENT, me_snapstore_create(store, NULL, 1, 10, 2, NULL, 0, 0, &w, err));
    EXPECT(ME_E_ARGUMENT, me_snapstore_create(store, "test", 1, 10, 2, NULL, 4, 0, &w, err));
    EXPECT(ME_OK, me_snapstore_create(store, "test-kind", 3, 10, 2, "members", 7, 123456789, &w, err));
    EXPECT(ME_OK, me_snapwriter_write(w, body, 100000, err));
    EXPECT(ME_OK, me_snapwriter_write(w, body + 100000, 200000, err));
    EXPECT(ME_E_ARGUMENT, me_snapwriter_write(w, NULL, 5, err));
    me_snapshot_id id = {0, 0};
    EXPECT(ME_OK, me_snapwriter_publish(w, &id, err));
    CHECK(id.index == 10 && id.term == 2, "published id (10, 2)");
    EXPECT(ME_E_CLOSED, me_snapwriter_write(w, body, 1, err));
    EXPECT(ME_E_CLOSED, me_snapwriter_publish(w, &id, err));
    EXPECT(ME_OK, me_snapwriter_abandon(w, err));
    me_snapwriter_free(w);
    EXPECT(ME_E_EXISTS, me_snapstore_create(store, "test-kind", 3, 10, 2, NULL, 0, 0, &w, err));

    /* an abandoned writer leaves nothing */
    EXPECT(ME_OK, me_snapstore_create(store, "test-kind", 3, 20, 2, NULL, 0, 0, &w, err));
    EXPECT(ME_OK, me_snapwriter_write(w, "x", 1, err));
    EXPECT(ME_OK, me_snapwriter_abandon(w, err));
    me_snapwriter_free(w);
    EXPECT(ME_OK, me_snapstore_create(store, "test-kind", 3, 5, 1, NULL, 0, 0, &w, err));
    EXPECT(ME_OK, me_snapwriter_write(w, "old", 3, err));
    EXPECT(ME_OK, me_snapwriter_publish(w, NULL, err));
    me_snapwriter_free(w);
    me_snapwriter_free(NULL);

    me_snapshot_id ids[4];
    EXPECT(ME_E_BUFFER_TOO_SMALL, me_snapstore_list(store, ids, 1, &count, err));
    CHECK(count == 2, "two published, got %zu", count);
    EXPECT(ME_OK, me_snapstore_list(store, ids, 4, &count, err));
    CHECK(count == 2 && ids[0].index == 10 && ids[1].index == 5, "newest first");
    EXPECT(ME_E_ARGUMENT, me_snapstore_list(store, ids, 4, NULL, err));

    EXPECT(ME_E_NOT_FOUND, me_snapstore_open_reader(store, 11, 2, &r, err));
    EXPECT(ME_OK, me_snapstore_open_reader(store, 10, 2, &r, err));
    me_snapshot_info info;
    EXPECT(ME_OK, me_snapreader_info(r, &info, err));
    CHECK(info.index == 10 && info.term == 2 && info.sm_version == 3 && info.created_at_nanos == 123456789 &&
              info.body_bytes == sizeof body && info.membership_len == 7 && info.kind_len == 9 &&
              info.file_bytes > 0,
          "snapshot info");
    char kind[32];
    size_t len = 0;
    EXPECT(ME_E_BUFFER_TOO_SMALL, me_snapreader_kind(r, kind, 3, &len, err));
    EXPECT(ME_OK, me_snapreader_kind(r, kind, sizeof kind, &len, err));
    CHECK(len == 9 && memcmp(kind, "test-kind", 9) == 0, "kind");
    EXPECT(ME_OK, me_snapreader_membership(r, kind, sizeof kind, &len, err));
    CHECK(len == 7 && memcmp(kind, "members", 7) == 0, "membership");
    static unsigned char back[400000];
    size_t total = 0, n = 0;
    do {
        EXPECT(ME_OK, me_snapreader_read(r, back + total, 70000, &n, err));
        total += n;
    } while (n > 0 && total < sizeof back);
    CHECK(total == sizeof body && memcmp(back, body, sizeof body) == 0, "body read back exactly (%zu bytes)", total);
    EXPECT(ME_E_ARGUMENT, me_snapreader_read(r, back, 0, &n, err));
    EXPECT(ME_OK, me_snapreader_close(r, err));
    EXPECT(ME_OK, me_snapreader_close(r, err));
    EXPECT(ME_E_CLOSED, me_snapreader_read(r, back, 10, &n, err));
    EXPECT(ME_E_CLOSED, me_snapreader_info(r, &info, err));
    EXPECT(ME_E_CLOSED, me_snapreader_kind(r, kind, sizeof kind, &len, err));
    EXPECT(ME_E_CLOSED, me_snapreader_membership(r, kind, sizeof kind, &len, err));
    me_snapreader_free(r);
    me_snapreader_free(NULL);

    /* transfer: raw bytes from one store into a receiver of the other */
    uint64_t size = 0;
    EXPECT(ME_OK, me_snapstore_file_size(store, 10, 2, &size, err));
    CHECK(size == info.file_bytes, "file size matches info");
    EXPECT(ME_E_NOT_FOUND, me_snapstore_file_size(store, 9, 2, &size, err));
    EXPECT(ME_E_ARGUMENT, me_snapstore_read_raw(store, 10, 2, size + 1, back, 10, &n, err));
    EXPECT(ME_OK, me_snapstore_read_raw(store, 10, 2, size, back, 10, &n, err));
    CHECK(n == 0, "read at the end gives 0");
    EXPECT(ME_OK, me_snapstore_receiver(other, 10, 2, &rcv, err));
    uint64_t off = 99;
    EXPECT(ME_OK, me_snapreceiver_offset(rcv, &off, err));
    CHECK(off == 0, "fresh receiver at 0");
    EXPECT(ME_E_ARGUMENT, me_snapreceiver_append(rcv, 5, "abc", 3, err));
    uint64_t at = 0;
    while (at < size) {
        EXPECT(ME_OK, me_snapstore_read_raw(store, 10, 2, at, back, 50000, &n, err));
        EXPECT(ME_OK, me_snapreceiver_append(rcv, at, back, n, err));
        at += n;
        if (at > 50000 && at <= 100000) {
            /* resume: a new receiver continues from the synced partial file */
            EXPECT(ME_OK, me_snapreceiver_sync(rcv, err));
            me_snapreceiver_free(rcv);
            EXPECT(ME_OK, me_snapstore_receiver(other, 10, 2, &rcv, err));
            EXPECT(ME_OK, me_snapreceiver_offset(rcv, &off, err));
            CHECK(off == at, "resumed receiver at %llu, got %llu", (unsigned long long)at, (unsigned long long)off);
        }
    }
    EXPECT(ME_OK, me_snapreceiver_finish(rcv, err));
    EXPECT(ME_E_CLOSED, me_snapreceiver_append(rcv, 0, "a", 1, err));
    EXPECT(ME_E_CLOSED, me_snapreceiver_offset(rcv, &off, err));
    EXPECT(ME_E_CLOSED, me_snapreceiver_sync(rcv, err));
    EXPECT(ME_E_CLOSED, me_snapreceiver_finish(rcv, err));
    EXPECT(ME_OK, me_snapreceiver_abandon(rcv, err));
    me_snapreceiver_free(rcv);
    EXPECT(ME_OK, me_snapstore_open_reader(other, 10, 2, &r, err));
    total = 0;
    do {
        EXPECT(ME_OK, me_snapreader_read(r, back + total, sizeof back - total, &n, err));
        total += n;
    } while (n > 0);
    CHECK(total == sizeof body && memcmp(back, body, sizeof body) == 0, "transferred body equal");
    me_snapreader_free(r);
    EXPECT(ME_E_EXISTS, me_snapstore_receiver(other, 10, 2, &rcv, err));

    /* a damaged transfer is refused on finish */
    EXPECT(ME_OK, me_snapstore_receiver(other, 5, 1, &rcv, err));
    EXPECT(ME_OK, me_snapstore_read_raw(store, 5, 1, 0, back, sizeof back, &n, err));
    back[n - 20] ^= 0x40;
    EXPECT(ME_OK, me_snapreceiver_append(rcv, 0, back, n, err));
    me_error e2;
    int rc = me_snapreceiver_finish(rcv, &e2);
    CHECK(rc == ME_E_CORRUPT || rc == ME_E_FORMAT, "damaged transfer refused, got %s (%s)", me_code_name(rc), e2.message);
    me_snapreceiver_free(rcv);
    EXPECT(ME_OK, me_snapstore_receiver(other, 5, 1, &rcv, err));
    EXPECT(ME_OK, me_snapreceiver_offset(rcv, &off, err));
    CHECK(off == 0, "a refused transfer restarts at 0");
    EXPECT(ME_OK, me_snapreceiver_abandon(rcv, err));
    EXPECT(ME_E_CLOSED, me_snapreceiver_offset(rcv, &off, err));
    me_snapreceiver_free(rcv);
    me_snapreceiver_free(NULL);

    /* a damaged published file is refused by the reader, naming the offset */
    char bad[1300];
    snprintf(bad, sizeof bad, "%s", path("snaps2/snapshot-00000000000000000010-00000000000000000002.msnap"));
    FILE *f = fopen(bad, "r+b");
    CHECK(f != NULL, "published file name %s", bad);
    if (f) {
        fseek(f, 100, SEEK_SET);
        int c = fgetc(f);
        fseek(f, 100, SEEK_SET);
        fputc(c ^ 1, f);
        fclose(f);
        rc = me_snapstore_open_reader(other, 10, 2, &r, &e2);
        if (rc == ME_OK) {
            rc = me_snapreader_read(r, back, sizeof back, &n, &e2);
            me_snapreader_free(r);
        }
        CHECK(rc == ME_E_CORRUPT || rc == ME_E_FORMAT, "damaged snapshot refused, got %s", me_code_name(rc));
        CHECK(strstr(e2.message, "offset") != NULL, "message names the offset: %s", e2.message);
    }

    size_t deleted = 9;
    EXPECT(ME_OK, me_snapstore_retain(store, 1, &deleted, err));
    CHECK(deleted == 1, "retain 1 deletes 1");
    EXPECT(ME_OK, me_snapstore_list(store, ids, 4, &count, err));
    CHECK(count == 1 && ids[0].index == 10, "retain keeps the newest");
    EXPECT(ME_OK, me_snapstore_delete(store, 10, 2, err));
    EXPECT(ME_E_NOT_FOUND, me_snapstore_delete(store, 10, 2, err));

    /* closed store */
    EXPECT(ME_OK, me_snapstore_create(store, "k", 1, 30, 3, NULL, 0, 0, &w, err));
    EXPECT(ME_OK, me_snapstore_close(store, err));
    EXPECT(ME_OK, me_snapstore_close(store, err));
    EXPECT(ME_E_CLOSED, me_snapwriter_publish(w, &id, err));
    me_snapwriter_free(w);
    EXPECT(ME_E_CLOSED, me_snapstore_create(store, "k", 1, 31, 3, NULL, 0, 0, &w, err));
    EXPECT(ME_E_CLOSED, me_snapstore_list(store, ids, 4, &count, err));
    EXPECT(ME_E_CLOSED, me_snapstore_delete(store, 10, 2, err));
    EXPECT(ME_E_CLOSED, me_snapstore_retain(store, 1, &deleted, err));
    EXPECT(ME_E_CLOSED, me_snapstore_open_reader(store, 10, 2, &r, err));
    EXPECT(ME_E_CLOSED, me_snapstore_file_size(store, 10, 2, &size, err));
    EXPECT(ME_E_CLOSED, me_snapstore_read_raw(store, 10, 2, 0, back, 10, &n, err));
    EXPECT(ME_E_CLOSED, me_snapstore_receiver(store, 40, 2, &rcv, err));
    me_snapstore_free(store);
    me_snapstore_free(other);
    me_snapstore_free(NULL);

    /* NULL handles */
    EXPECT(ME_E_ARGUMENT, me_snapstore_close(NULL, err));
    EXPECT(ME_E_ARGUMENT, me_snapstore_create(NULL, "k", 1, 1, 1, NULL, 0, 0, &w, err));
    EXPECT(ME_E_ARGUMENT, me_snapwriter_write(NULL, "a", 1, err));
    EXPECT(ME_E_ARGUMENT, me_snapwriter_publish(NULL, &id, err));
    EXPECT(ME_E_ARGUMENT, me_snapwriter_abandon(NULL, err));
    EXPECT(ME_E_ARGUMENT, me_snapstore_list(NULL, ids, 4, &count, err));
    EXPECT(ME_E_ARGUMENT, me_snapstore_delete(NULL, 1, 1, err));
    EXPECT(ME_E_ARGUMENT, me_snapstore_retain(NULL, 1, &deleted, err));
    EXPECT(ME_E_ARGUMENT, me_snapstore_open_reader(NULL, 1, 1, &r, err));
    EXPECT(ME_E_ARGUMENT, me_snapreader_info(NULL, &info, err));
    EXPECT(ME_E_ARGUMENT, me_snapreader_kind(NULL, kind, 1, &len, err));
    EXPECT(ME_E_ARGUMENT, me_snapreader_membership(NULL, kind, 1, &len, err));
    EXPECT(ME_E_ARGUMENT, me_snapreader_read(NULL, back, 1, &n, err));
    EXPECT(ME_E_ARGUMENT, me_snapreader_close(NULL, err));
    EXPECT(ME_E_ARGUMENT, me_snapstore_file_size(NULL, 1, 1, &size, err));
    EXPECT(ME_E_ARGUMENT, me_snapstore_read_raw(NULL, 1, 1, 0, back, 1, &n, err));
    EXPECT(ME_E_ARGUMENT, me_snapstore_receiver(NULL, 1, 1, &rcv, err));
    EXPECT(ME_E_ARGUMENT, me_snapreceiver_offset(NULL, &off, err));
    EXPECT(ME_E_ARGUMENT, me_snapreceiver_append(NULL, 0, "a", 1, err));
    EXPECT(ME_E_ARGUMENT, me_snapreceiver_sync(NULL, err));
    EXPECT(ME_E_ARGUMENT, me_snapreceiver_finish(NULL, err));
    EXPECT(ME_E_ARGUMENT, me_snapreceiver_abandon(NULL, err));
}

/* ---- InfluxDB meta state machine ---- */

/* The n-th element of the fixture's expect.json array: NULL for null, else a malloc'd string. */
static char **parse_expect(const unsigned char *json, size_t len, size_t *count) {
    char **out = calloc(4096, sizeof *out);
    size_t n = 0;
    for (size_t i = 0; i < len && n < 4096; i++) {
        if (json[i] == 'n' && i + 4 <= len && memcmp(json + i, "null", 4) == 0) {
            out[n++] = NULL;
            i += 3;
        } else if (json[i] == '"') {
            size_t j = i + 1;
            while (j < len && json[j] != '"') j += (json[j] == '\\') ? 2 : 1;
            out[n] = malloc(j - i);
            memcpy(out[n], json + i + 1, j - i - 1);
            out[n][j - i - 1] = 0;
            n++;
            i = j;
        }
    }
    *count = n;
    return out;
}

static void test_influx(const char *fixtures) {
    size_t clen, elen, dlen;
    unsigned char *commands = read_file(fixtures, "case-003.commands", &clen);
    unsigned char *expect_json = read_file(fixtures, "case-003.expect.json", &elen);
    unsigned char *data_pb = read_file(fixtures, "case-003.data.pb", &dlen);
    size_t expected_count;
    char **expected = parse_expect(expect_json, elen, &expected_count);

    me_influx *m = NULL, *s = NULL, *copy = NULL;
    EXPECT(ME_E_ARGUMENT, me_influx_new(5, &m, err));
    EXPECT(ME_E_ARGUMENT, me_influx_new(ME_CLOCK_INDEX_SECONDS, NULL, err));
    EXPECT(ME_OK, me_influx_new(ME_CLOCK_INDEX_SECONDS, &m, err));
    EXPECT(ME_OK, me_influx_new(ME_CLOCK_LEADER_STAMPED, &s, err));

    /* every command of the stream, in both clock modes */
    size_t at = 0, index = 0, mismatches = 0;
    static unsigned char stamped[1 << 16];
    while (at + 4 <= clen) {
        uint32_t n = commands[at] | commands[at + 1] << 8 | commands[at + 2] << 16 | (uint32_t)commands[at + 3] << 24;
        at += 4;
        index++;
        int rejected = -1;
        char msg[256];
        size_t msg_len = 0;
        EXPECT(ME_OK, me_influx_apply(m, index, 1, commands + at, n, &rejected, msg, sizeof msg, &msg_len, err));
        const char *want = index <= expected_count ? expected[index - 1] : "<missing>";
        if (want == NULL ? rejected != 0 : (rejected != 1 || strcmp(msg, want) != 0 || msg_len != strlen(want))) {
            mismatches++;
            printf("command %zu: want %s, got %s\n", index, want ? want : "null", rejected ? msg : "null");
        }
        int64_t now = (1577836800LL + (int64_t)index) * 1000000000LL;
        for (int b = 0; b < 8; b++) stamped[b] = (unsigned char)((uint64_t)now >> (8 * b));
        memcpy(stamped + 8, commands + at, n);
        int rejected2 = -1;
        EXPECT(ME_OK, me_influx_apply(s, index, 1, stamped, n + 8, &rejected2, NULL, 0, NULL, err));
        if (rejected2 != rejected) mismatches++;
        at += n;
    }
    CHECK(index == expected_count && index > 20, "applied %zu commands, expect.json has %zu", index, expected_count);
    CHECK(mismatches == 0, "%zu results differ from expect.json", mismatches);

    uint64_t ai = 0, at_term = 0;
    EXPECT(ME_OK, me_influx_applied(m, &ai, &at_term, err));
    CHECK(ai == index && at_term == 1, "applied index %llu term %llu", (unsigned long long)ai, (unsigned long long)at_term);
    uint8_t *db = NULL, *db2 = NULL;
    size_t db_len = 0, db2_len = 0;
    EXPECT(ME_OK, me_influx_metadb(m, &db, &db_len, err));
    CHECK(db_len == dlen && memcmp(db, data_pb, dlen) == 0, "meta.db equals case-003.data.pb (%zu vs %zu bytes)", db_len, dlen);
    EXPECT(ME_OK, me_influx_metadb(s, &db2, &db2_len, err));
    CHECK(db2_len == dlen && memcmp(db2, data_pb, dlen) == 0, "leader-stamped meta.db equals data.pb too");
    me_free(db2);
    me_free(NULL);

    /* a payload that is not a command is answered, not trapped */
    int rejected = 0;
    char msg[8];
    size_t msg_len = 0;
    EXPECT(ME_OK, me_influx_apply(s, index + 1, 2, "\x01\x02", 2, &rejected, msg, sizeof msg, &msg_len, err));
    CHECK(rejected == 1 && msg_len > 0 && strlen(msg) == 7, "short stamped payload rejected, message truncated to fit");
    EXPECT(ME_E_ARGUMENT, me_influx_apply(s, 1, 1, "x", 1, NULL, NULL, 0, NULL, err));
    EXPECT(ME_E_ARGUMENT, me_influx_apply(s, 1, 1, NULL, 3, &rejected, NULL, 0, NULL, err));
    EXPECT(ME_OK, me_influx_applied(s, &ai, &at_term, err));
    CHECK(ai == index + 1 && at_term == 2, "rejected entries still stamp index and term");

    /* snapshot through the store, restore into a fresh machine */
    EXPECT(ME_OK, me_influx_clone(m, &copy, err));
    EXPECT(ME_OK, me_influx_apply(m, index + 1, 1, commands + 4, commands[0], &rejected, NULL, 0, NULL, err));
    me_snapstore *store;
    me_snapwriter *w;
    me_snapreader *r;
    EXPECT(ME_OK, me_snapstore_open(path("influx-snaps"), &store, err));
    EXPECT(ME_OK, me_snapstore_create(store, "influxdb-meta", 1, index, 1, NULL, 0, 0, &w, err));
    EXPECT(ME_OK, me_influx_write_snapshot(copy, w, err));
    EXPECT(ME_OK, me_snapwriter_publish(w, NULL, err));
    EXPECT(ME_E_CLOSED, me_influx_write_snapshot(copy, w, err));
    me_snapwriter_free(w);
    me_influx *fresh;
    EXPECT(ME_OK, me_influx_new(ME_CLOCK_INDEX_SECONDS, &fresh, err));
    EXPECT(ME_OK, me_snapstore_open_reader(store, index, 1, &r, err));
    EXPECT(ME_OK, me_influx_restore(fresh, r, err));
    me_snapreader_free(r);
    EXPECT(ME_OK, me_influx_metadb(fresh, &db2, &db2_len, err));
    CHECK(db2_len == dlen && memcmp(db2, data_pb, dlen) == 0, "restored from the clone's snapshot: data.pb again");
    me_free(db2);

    /* restore refuses other kinds and bad bytes, keeping the state */
    EXPECT(ME_OK, me_snapstore_create(store, "kv", 1, 99, 1, NULL, 0, 0, &w, err));
    EXPECT(ME_OK, me_snapwriter_write(w, "x", 1, err));
    EXPECT(ME_OK, me_snapwriter_publish(w, NULL, err));
    me_snapwriter_free(w);
    EXPECT(ME_OK, me_snapstore_open_reader(store, 99, 1, &r, err));
    EXPECT(ME_E_FORMAT, me_influx_restore(fresh, r, err));
    EXPECT(ME_E_FORMAT, me_influx_restore_bytes(fresh, "\xff\xff\xff", 3, err));
    EXPECT(ME_OK, me_influx_metadb(fresh, &db2, &db2_len, err));
    CHECK(db2_len == dlen && memcmp(db2, data_pb, dlen) == 0, "state unchanged after refused restores");
    me_free(db2);
    EXPECT(ME_OK, me_snapreader_close(r, err));
    EXPECT(ME_E_CLOSED, me_influx_restore(fresh, r, err));
    me_snapreader_free(r);
    /* zero bytes are not a meta.db (Term and Index are required fields) */
    EXPECT(ME_E_FORMAT, me_influx_restore_bytes(fresh, NULL, 0, err));
    CHECK(strstr(err->message, "Term") != NULL, "names the missing field: %s", err->message);
    EXPECT(ME_OK, me_influx_restore_bytes(fresh, db, db_len, err));
    EXPECT(ME_OK, me_influx_applied(fresh, &ai, &at_term, err));
    CHECK(ai == index, "restore_bytes gives the applied index back");
    me_free(db);
    me_snapstore_free(store);

    /* NULL handles */
    EXPECT(ME_E_ARGUMENT, me_influx_apply(NULL, 1, 1, "x", 1, &rejected, NULL, 0, NULL, err));
    EXPECT(ME_E_ARGUMENT, me_influx_applied(NULL, &ai, &at_term, err));
    EXPECT(ME_E_ARGUMENT, me_influx_clone(NULL, &copy, err));
    EXPECT(ME_E_ARGUMENT, me_influx_write_snapshot(NULL, w, err));
    EXPECT(ME_E_ARGUMENT, me_influx_write_snapshot(m, NULL, err));
    EXPECT(ME_E_ARGUMENT, me_influx_restore(m, NULL, err));
    EXPECT(ME_E_ARGUMENT, me_influx_restore_bytes(NULL, "x", 1, err));
    EXPECT(ME_E_ARGUMENT, me_influx_metadb(NULL, &db, &db_len, err));
    EXPECT(ME_E_ARGUMENT, me_influx_metadb(m, NULL, &db_len, err));
    me_influx_free(m);
    me_influx_free(s);
    me_influx_free(copy);
    me_influx_free(fresh);
    me_influx_free(NULL);
    for (size_t i = 0; i < expected_count; i++) free(expected[i]);
    free(expected);
    free(commands);
    free(expect_json);
    free(data_pb);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s SCRATCH_DIR FIXTURE_DIR\n", argv[0]);
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
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
