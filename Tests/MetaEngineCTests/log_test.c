/* The C ABI test: me_log_* (log, hard state, named values), success and error paths. */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- log ---- */

void test_log(void) {
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

