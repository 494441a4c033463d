/* The C ABI test: me_log_append_raft, me_engine_* (case-003 through the engine) and me_kv_* (etcd case-004). */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Raft append on the log ---- */

void test_log_raft(void) {
    me_log *log = NULL;
    EXPECT(ME_OK, me_log_open(path("raftlog"), 4096, ME_GROUP_COMMIT, &log, err));
    uint64_t terms[3] = {2, 2, 2};
    uint32_t lengths[3] = {1, 2, 3};
    const char *payloads = "abbccc";
    me_hard_state hs = {2, 1, 0}, got = {0, 0, 0};
    uint64_t last = 0, v = 0, term = 0;
    EXPECT(ME_E_ARGUMENT, me_log_append_raft(NULL, 1, 3, terms, NULL, lengths, payloads, &hs, &last, err));
    EXPECT(ME_E_ARGUMENT, me_log_append_raft(log, 0, 3, terms, NULL, lengths, payloads, &hs, &last, err));
    EXPECT(ME_E_ARGUMENT, me_log_append_raft(log, 1, 0, terms, NULL, lengths, payloads, &hs, &last, err));
    EXPECT(ME_E_ARGUMENT, me_log_append_raft(log, 1, 3, terms, NULL, lengths, NULL, &hs, &last, err));
    EXPECT(ME_OK, me_log_value_set(log, "CurrentTerm", 11, "\x02", 1, err));
    EXPECT(ME_OK, me_log_append_raft(log, 1, 3, terms, NULL, lengths, payloads, &hs, &last, err));
    CHECK(last == 3, "raft append 1..3, last %llu", (unsigned long long)last);
    EXPECT(ME_OK, me_log_hard_state(log, &got, err));
    CHECK(got.term == 2 && got.vote == 1 && got.commit == 0, "hard state saved with the entries");
    EXPECT(ME_OK, me_log_durable_index(log, &v, err));
    CHECK(v == 3, "durable index 3 after a group-commit raft append, got %llu", (unsigned long long)v);

    /* conflict overwrite at 2 with a new term and a new hard state */
    uint64_t t3 = 3;
    uint32_t l3 = 4;
    me_hard_state hs2 = {3, 2, 1};
    EXPECT(ME_OK, me_log_append_raft(log, 2, 1, &t3, NULL, &l3, "NEW2", &hs2, &last, err));
    CHECK(last == 2, "conflict at 2 leaves last 2, got %llu", (unsigned long long)last);
    EXPECT(ME_OK, me_log_last_index(log, &v, err));
    CHECK(v == 2, "last index 2 after the overwrite, got %llu", (unsigned long long)v);
    EXPECT(ME_OK, me_log_durable_index(log, &v, err));
    CHECK(v == 2, "durable index follows the overwrite: 2, got %llu", (unsigned long long)v);
    EXPECT(ME_OK, me_log_term_at(log, 2, &term, err));
    CHECK(term == 3, "term at 2 is the new 3, got %llu", (unsigned long long)term);
    EXPECT(ME_OK, me_log_term_at(log, 1, &term, err));
    CHECK(term == 2, "entry 1 kept (term 2)");
    EXPECT(ME_E_UNAVAILABLE, me_log_term_at(log, 3, &term, err));
    char buf[16];
    size_t len = 0;
    uint8_t kind = 9;
    EXPECT(ME_OK, me_log_entry(log, 2, &term, &kind, buf, sizeof buf, &len, err));
    CHECK(len == 4 && memcmp(buf, "NEW2", 4) == 0 && kind == 0, "entry 2 is NEW2");
    EXPECT(ME_OK, me_log_hard_state(log, &got, err));
    CHECK(got.term == 3 && got.vote == 2 && got.commit == 1, "second hard state saved");
    EXPECT(ME_OK, me_log_value_get(log, "CurrentTerm", 11, buf, sizeof buf, &len, err));
    CHECK(len == 1 && buf[0] == 2, "named values kept through raft appends");
    EXPECT(ME_E_NON_CONTIGUOUS, me_log_append_raft(log, 5, 1, &t3, NULL, &l3, "gap!", NULL, &last, err));
    /* no hard state: entries only */
    EXPECT(ME_OK, me_log_append_raft(log, 3, 1, &t3, NULL, &l3, "ent3", NULL, &last, err));
    CHECK(last == 3, "append at the end without a hard state");
    EXPECT(ME_OK, me_log_hard_state(log, &got, err));
    CHECK(got.term == 3 && got.commit == 1, "hard state untouched by a NULL state");

    /* survives reopen */
    EXPECT(ME_OK, me_log_close(log, err));
    EXPECT(ME_E_CLOSED, me_log_append_raft(log, 4, 1, &t3, NULL, &l3, "ent4", NULL, &last, err));
    me_log_free(log);
    EXPECT(ME_OK, me_log_open(path("raftlog"), 4096, ME_MANUAL_SYNC, &log, err));
    EXPECT(ME_OK, me_log_entry(log, 2, &term, &kind, buf, sizeof buf, &len, err));
    CHECK(term == 3 && len == 4 && memcmp(buf, "NEW2", 4) == 0, "overwrite survives reopen");
    EXPECT(ME_OK, me_log_hard_state(log, &got, err));
    CHECK(got.term == 3 && got.vote == 2 && got.commit == 1, "hard state survives reopen");
    /* manual durability: Log.durableIndex stays behind until the sync */
    EXPECT(ME_OK, me_log_append_raft(log, 4, 1, &t3, NULL, &l3, "ent4", NULL, &last, err));
    EXPECT(ME_OK, me_log_durable_index(log, &v, err));
    CHECK(v == 3, "manual raft append: durable index still 3, got %llu", (unsigned long long)v);
    EXPECT(ME_OK, me_log_sync(log, err));
    EXPECT(ME_OK, me_log_durable_index(log, &v, err));
    CHECK(v == 4, "manual raft append: durable 4 after sync, got %llu", (unsigned long long)v);
    me_log_free(log);
}

/* ---- Engine: case-003 proposed, committed and applied; snapshot, host state, follower appends ---- */

#define MAX_COMMANDS 4096

void test_engine(const char *fixtures) {
    size_t clen, elen, dlen, expected_count;
    unsigned char *commands = read_file(fixtures, "case-003.commands", &clen);
    unsigned char *expect_json = read_file(fixtures, "case-003.expect.json", &elen);
    unsigned char *data_pb = read_file(fixtures, "case-003.data.pb", &dlen);
    char **expected = parse_expect(expect_json, elen, &expected_count);

    /* the stream as flat arrays: uint32 LE length + command, each record */
    static uint64_t terms[MAX_COMMANDS];
    static uint32_t lengths[MAX_COMMANDS];
    unsigned char *payloads = malloc(clen);
    size_t n = 0, at = 0, out = 0;
    while (at + 4 <= clen && n < MAX_COMMANDS) {
        uint32_t len = commands[at] | commands[at + 1] << 8 | commands[at + 2] << 16 | (uint32_t)commands[at + 3] << 24;
        memcpy(payloads + out, commands + at + 4, len);
        terms[n] = 1;
        lengths[n++] = len;
        out += len;
        at += 4 + len;
    }
    CHECK(n == expected_count && n > 10, "case-003: %zu commands, %zu expected results", n, expected_count);

    me_engine *e = NULL, *other = NULL;
    me_engine_options opts = {0, 5, 1, ME_CLOCK_INDEX_SECONDS};
    me_engine_options bad = {0, 0, 0, 9};
    EXPECT(ME_E_ARGUMENT, me_engine_open(NULL, &opts, &e, err));
    EXPECT(ME_E_ARGUMENT, me_engine_open(path("engine"), &opts, NULL, err));
    EXPECT(ME_E_ARGUMENT, me_engine_open(path("engine"), &bad, &e, err));
    CHECK(e == NULL, "no handle after a failed open");
    EXPECT(ME_OK, me_engine_open(path("engine"), &opts, &e, err));
    EXPECT(ME_E_LOCKED, me_engine_open(path("engine"), &opts, &other, err));

    uint64_t v = 99, first = 0, last = 0, term = 0;
    EXPECT(ME_OK, me_engine_first_index(e, &v, err));
    CHECK(v == 1, "new engine first index 1, got %llu", (unsigned long long)v);
    EXPECT(ME_OK, me_engine_last_index(e, &v, err));
    CHECK(v == 0, "new engine last index 0");
    EXPECT(ME_OK, me_engine_applied_index(e, &v, err));
    CHECK(v == 0, "new engine applied index 0");

    /* proposals: the first 10 commands, then the rest */
    size_t head = 10, head_bytes = 0;
    for (size_t i = 0; i < head; i++) head_bytes += lengths[i];
    EXPECT(ME_E_ARGUMENT, me_engine_propose(e, 0, terms, NULL, lengths, payloads, &first, &last, err));
    EXPECT(ME_E_ARGUMENT, me_engine_propose(e, head, NULL, NULL, lengths, payloads, &first, &last, err));
    EXPECT(ME_E_ARGUMENT, me_engine_propose(e, head, terms, NULL, lengths, NULL, &first, &last, err));
    EXPECT(ME_OK, me_engine_propose(e, head, terms, NULL, lengths, payloads, &first, &last, err));
    CHECK(first == 1 && last == head, "first proposal 1..%zu, got %llu..%llu", head, (unsigned long long)first,
          (unsigned long long)last);
    EXPECT(ME_OK, me_engine_propose(e, n - head, terms + head, NULL, lengths + head, payloads + head_bytes, &first, &last, err));
    CHECK(first == head + 1 && last == n, "second proposal %zu..%zu, got %llu..%llu", head + 1, n,
          (unsigned long long)first, (unsigned long long)last);

    /* nothing committed yet: a wait times out */
    int rejected = 7;
    char msg[256];
    size_t msg_len = 0;
    EXPECT(ME_E_TIMED_OUT, me_engine_wait_applied(e, 1, 20, &rejected, msg, sizeof msg, &msg_len, err));
    EXPECT(ME_OK, me_engine_commit_index(e, &v, err));
    CHECK(v == 0, "commit index 0 before commit");
    EXPECT(ME_OK, me_engine_commit(e, n, 0, err));
    EXPECT(ME_OK, me_engine_commit_index(e, &v, err));
    CHECK(v == n, "commit index %zu, got %llu", n, (unsigned long long)v);

    /* every entry's result equals the fixture's expected error */
    size_t mismatches = 0;
    for (size_t i = 1; i <= n; i++) {
        rejected = 7;
        EXPECT(ME_OK, me_engine_wait_applied(e, i, 10000, &rejected, msg, sizeof msg, &msg_len, err));
        const char *want = expected[i - 1];
        if (want == NULL ? rejected != 0 : (rejected != 1 || strcmp(msg, want) != 0 || msg_len != strlen(want))) {
            mismatches++;
            printf("engine entry %zu: want %s, got %d %s\n", i, want ? want : "null", rejected, msg);
        }
    }
    CHECK(mismatches == 0, "engine results equal case-003.expect.json (%zu mismatches)", mismatches);
    EXPECT(ME_E_ARGUMENT, me_engine_wait_applied(e, 1, 10, NULL, msg, sizeof msg, &msg_len, err));
    EXPECT(ME_OK, me_engine_wait_applied(e, 1, UINT64_MAX, &rejected, NULL, 0, &msg_len, err));
    CHECK(rejected == (expected[0] != NULL), "the largest timeout on an applied entry answers at once");
    /* a short message buffer truncates, msg_len has the full length */
    for (size_t i = 1; i <= n; i++) {
        if (expected[i - 1] == NULL) continue;
        char tiny[4];
        EXPECT(ME_OK, me_engine_wait_applied(e, i, 10000, &rejected, tiny, sizeof tiny, &msg_len, err));
        CHECK(rejected == 1 && msg_len == strlen(expected[i - 1]) && strlen(tiny) == 3 &&
                  memcmp(tiny, expected[i - 1], 3) == 0,
              "truncated message of entry %zu", i);
        break;
    }
    EXPECT(ME_OK, me_engine_applied_index(e, &v, err));
    CHECK(v == n, "applied index %zu, got %llu", n, (unsigned long long)v);

    /* meta.db: caller buffer (too small, then exact) and library buffer */
    size_t len = 0;
    unsigned char small[8];
    EXPECT(ME_E_BUFFER_TOO_SMALL, me_engine_metadb(e, small, sizeof small, NULL, &len, err));
    CHECK(len == dlen, "too small: len says %zu, got %zu", dlen, len);
    unsigned char *db = malloc(dlen);
    EXPECT(ME_OK, me_engine_metadb(e, db, dlen, NULL, &len, err));
    CHECK(len == dlen && memcmp(db, data_pb, dlen) == 0, "engine meta.db equals case-003.data.pb (%zu vs %zu)", len, dlen);
    uint8_t *db2 = NULL;
    EXPECT(ME_OK, me_engine_metadb(e, NULL, 0, &db2, &len, err));
    CHECK(db2 != NULL && len == dlen && memcmp(db2, data_pb, dlen) == 0, "malloc'd meta.db equals data.pb");
    me_free(db2);
    EXPECT(ME_E_ARGUMENT, me_engine_metadb(e, NULL, 0, NULL, &len, err));
    EXPECT(ME_E_ARGUMENT, me_engine_metadb(e, db, dlen, NULL, NULL, err));

    /* term at, manual snapshot, compaction behind it (trailing 5) */
    EXPECT(ME_OK, me_engine_term_at(e, n, &term, err));
    CHECK(term == 1, "term at %zu is 1", n);
    EXPECT(ME_E_UNAVAILABLE, me_engine_term_at(e, n + 1, &term, err));
    EXPECT(ME_E_ARGUMENT, me_engine_term_at(e, 1, NULL, err));
    uint64_t sidx = 0, sterm = 0;
    EXPECT(ME_OK, me_engine_snapshot(e, &sidx, &sterm, err));
    CHECK(sidx == n && sterm == 1, "snapshot at (%zu, 1), got (%llu, %llu)", n, (unsigned long long)sidx,
          (unsigned long long)sterm);
    EXPECT(ME_OK, me_engine_first_index(e, &v, err));
    CHECK(v == n - 5 + 1, "log compacted to first index %zu, got %llu", n - 4, (unsigned long long)v);
    EXPECT(ME_E_COMPACTED, me_engine_term_at(e, 1, &term, err));
    EXPECT(ME_OK, me_engine_term_at(e, n - 5, &term, err));
    CHECK(term == 1, "boundary term kept");

    /* host state and named values */
    me_hard_state hs = {4, 2, 1}, got = {0, 0, 0};
    EXPECT(ME_OK, me_engine_set_host_state(e, &hs, err));
    EXPECT(ME_OK, me_engine_host_state(e, &got, err));
    CHECK(got.term == 4 && got.vote == 2 && got.commit == n, "host state (4, 2, commit %zu)", n);
    EXPECT(ME_E_ARGUMENT, me_engine_set_host_state(e, NULL, err));
    EXPECT(ME_E_ARGUMENT, me_engine_host_state(e, NULL, err));
    EXPECT(ME_OK, me_engine_value_set(e, "LastVoteCand", "node-2", 6, err));
    EXPECT(ME_OK, me_engine_value_set(e, "Empty", NULL, 0, err));
    char vbuf[16];
    EXPECT(ME_OK, me_engine_value_get(e, "LastVoteCand", vbuf, sizeof vbuf, &len, err));
    CHECK(len == 6 && memcmp(vbuf, "node-2", 6) == 0, "value LastVoteCand");
    EXPECT(ME_OK, me_engine_value_get(e, "Empty", NULL, 0, &len, err));
    CHECK(len == 0, "empty value");
    EXPECT(ME_E_BUFFER_TOO_SMALL, me_engine_value_get(e, "LastVoteCand", vbuf, 2, &len, err));
    CHECK(len == 6, "too small: len 6");
    EXPECT(ME_E_NOT_FOUND, me_engine_value_get(e, "Missing", vbuf, sizeof vbuf, &len, err));
    EXPECT(ME_E_ARGUMENT, me_engine_value_set(e, "engine.mine", "x", 1, err));
    EXPECT(ME_E_ARGUMENT, me_engine_value_set(e, "", "x", 1, err));
    EXPECT(ME_E_ARGUMENT, me_engine_value_set(e, NULL, "x", 1, err));
    EXPECT(ME_E_ARGUMENT, me_engine_value_set(e, "k", NULL, 1, err));
    EXPECT(ME_OK, me_engine_host_state(e, &got, err));
    CHECK(got.term == 4 && got.vote == 2, "values keep term and vote");

    /* follower appends: two no-ops at n+1, a conflicting entry at n+2, refused ones */
    uint64_t t2[2] = {2, 2}, t3 = 3;
    uint8_t noop[2] = {1, 1};
    uint32_t zero[2] = {0, 0};
    EXPECT(ME_OK, me_engine_append(e, n + 1, 2, t2, noop, zero, NULL, &last, err));
    CHECK(last == n + 2, "follower append ends at %zu", n + 2);
    EXPECT(ME_OK, me_engine_append(e, n + 2, 1, &t3, noop, zero, NULL, &last, err));
    CHECK(last == n + 2, "conflict overwrite at %zu", n + 2);
    EXPECT(ME_OK, me_engine_term_at(e, n + 2, &term, err));
    CHECK(term == 3, "term at %zu is the new 3, got %llu", n + 2, (unsigned long long)term);
    EXPECT(ME_E_NON_CONTIGUOUS, me_engine_append(e, n + 9, 1, &t3, noop, zero, NULL, &last, err));
    EXPECT(ME_E_WOULD_TRUNCATE_COMMITTED, me_engine_append(e, n, 1, &t3, noop, zero, NULL, &last, err));
    EXPECT(ME_E_ARGUMENT, me_engine_append(e, 0, 1, &t3, noop, zero, NULL, &last, err));
    EXPECT(ME_OK, me_engine_commit(e, n + 2, 1, err));
    EXPECT(ME_OK, me_engine_wait_applied(e, n + 2, 10000, &rejected, msg, sizeof msg, &msg_len, err));
    CHECK(rejected == 0 && msg_len == 0 && msg[0] == 0, "a no-op has no error");
    EXPECT(ME_OK, me_engine_metadb(e, db, dlen, NULL, &len, err));
    unsigned char *before = malloc(len);
    size_t before_len = len;
    memcpy(before, db, len);

    /* close: every call answers ME_E_CLOSED; close twice is fine */
    EXPECT(ME_OK, me_engine_close(e, err));
    EXPECT(ME_OK, me_engine_close(e, err));
    EXPECT(ME_E_CLOSED, me_engine_propose(e, 1, terms, NULL, lengths, payloads, &first, &last, err));
    EXPECT(ME_E_CLOSED, me_engine_append(e, n + 3, 1, &t3, noop, zero, NULL, &last, err));
    EXPECT(ME_E_CLOSED, me_engine_commit(e, n + 3, 0, err));
    EXPECT(ME_E_CLOSED, me_engine_wait_applied(e, 1, 10, &rejected, msg, sizeof msg, &msg_len, err));
    EXPECT(ME_E_CLOSED, me_engine_first_index(e, &v, err));
    EXPECT(ME_E_CLOSED, me_engine_last_index(e, &v, err));
    EXPECT(ME_E_CLOSED, me_engine_commit_index(e, &v, err));
    EXPECT(ME_E_CLOSED, me_engine_applied_index(e, &v, err));
    EXPECT(ME_E_CLOSED, me_engine_term_at(e, n, &term, err));
    EXPECT(ME_E_CLOSED, me_engine_snapshot(e, &sidx, &sterm, err));
    EXPECT(ME_E_CLOSED, me_engine_metadb(e, db, dlen, NULL, &len, err));
    EXPECT(ME_E_CLOSED, me_engine_host_state(e, &got, err));
    EXPECT(ME_E_CLOSED, me_engine_set_host_state(e, &hs, err));
    EXPECT(ME_E_CLOSED, me_engine_value_set(e, "k", "v", 1, err));
    EXPECT(ME_E_CLOSED, me_engine_value_get(e, "k", vbuf, sizeof vbuf, &len, err));
    me_engine_free(e);
    me_engine_free(NULL);

    /* reopen: snapshot + log replay through the saved commit index gives the same state */
    EXPECT(ME_OK, me_engine_open(path("engine"), NULL, &e, err));
    EXPECT(ME_OK, me_engine_wait_applied(e, n + 2, 10000, &rejected, msg, sizeof msg, &msg_len, err));
    EXPECT(ME_OK, me_engine_applied_index(e, &v, err));
    CHECK(v == n + 2, "recovered applied index %zu, got %llu", n + 2, (unsigned long long)v);
    EXPECT(ME_OK, me_engine_last_index(e, &v, err));
    CHECK(v == n + 2, "recovered last index %zu", n + 2);
    EXPECT(ME_OK, me_engine_metadb(e, db, dlen, NULL, &len, err));
    CHECK(len == before_len && memcmp(db, before, len) == 0, "recovered meta.db equals the one before close");
    EXPECT(ME_OK, me_engine_host_state(e, &got, err));
    CHECK(got.term == 4 && got.vote == 2 && got.commit == n + 2, "recovered host state (4, 2, %zu)", n + 2);
    EXPECT(ME_OK, me_engine_value_get(e, "LastVoteCand", vbuf, sizeof vbuf, &len, err));
    CHECK(len == 6 && memcmp(vbuf, "node-2", 6) == 0, "recovered value");
    me_engine_free(e);

    /* NULL handle everywhere */
    EXPECT(ME_E_ARGUMENT, me_engine_close(NULL, err));
    EXPECT(ME_E_ARGUMENT, me_engine_propose(NULL, 1, terms, NULL, lengths, payloads, &first, &last, err));
    EXPECT(ME_E_ARGUMENT, me_engine_append(NULL, 1, 1, &t3, noop, zero, NULL, &last, err));
    EXPECT(ME_E_ARGUMENT, me_engine_commit(NULL, 1, 0, err));
    EXPECT(ME_E_ARGUMENT, me_engine_wait_applied(NULL, 1, 10, &rejected, msg, sizeof msg, &msg_len, err));
    EXPECT(ME_E_ARGUMENT, me_engine_first_index(NULL, &v, err));
    EXPECT(ME_E_ARGUMENT, me_engine_last_index(NULL, &v, err));
    EXPECT(ME_E_ARGUMENT, me_engine_commit_index(NULL, &v, err));
    EXPECT(ME_E_ARGUMENT, me_engine_applied_index(NULL, &v, err));
    EXPECT(ME_E_ARGUMENT, me_engine_term_at(NULL, 1, &term, err));
    EXPECT(ME_E_ARGUMENT, me_engine_snapshot(NULL, &sidx, &sterm, err));
    EXPECT(ME_E_ARGUMENT, me_engine_metadb(NULL, db, dlen, NULL, &len, err));
    EXPECT(ME_E_ARGUMENT, me_engine_host_state(NULL, &got, err));
    EXPECT(ME_E_ARGUMENT, me_engine_set_host_state(NULL, &hs, err));
    EXPECT(ME_E_ARGUMENT, me_engine_value_set(NULL, "k", "v", 1, err));
    EXPECT(ME_E_ARGUMENT, me_engine_value_get(NULL, "k", vbuf, sizeof vbuf, &len, err));

    free(before);
    free(db);
    free(payloads);
    for (size_t i = 0; i < expected_count; i++) free(expected[i]);
    free(expected);
    free(commands);
    free(expect_json);
    free(data_pb);
}

/* ---- Key-value machine: etcd case-004, outcome by outcome, then reads ---- */

void test_kv(const char *etcd) {
    size_t clen, elen;
    unsigned char *commands = read_file(etcd, "case-004.commands", &clen);
    unsigned char *expect = read_file(etcd, "case-004.expect.jsonl", &elen);
    me_kv *kv = NULL;
    EXPECT(ME_E_ARGUMENT, me_kv_new(NULL, err));
    EXPECT(ME_OK, me_kv_new(&kv, err));

    static char line[1 << 16];
    size_t at = 0, eat = 0, index = 0, mismatches = 0, len = 0;
    int is_error = -1, errors = 0;
    while (at + 4 <= clen) {
        uint32_t n = commands[at] | commands[at + 1] << 8 | commands[at + 2] << 16 | (uint32_t)commands[at + 3] << 24;
        index++;
        EXPECT(ME_OK, me_kv_apply(kv, index, 1, commands + at + 4, n, line, sizeof line, &len, &is_error, err));
        at += 4 + n;
        size_t end = eat;
        while (end < elen && expect[end] != '\n') end++;
        if (len != end - eat || memcmp(line, expect + eat, len) != 0) {
            mismatches++;
            printf("kv entry %zu: want %.*s\ngot %.*s\n", index, (int)(end - eat), expect + eat, (int)len, line);
        }
        if (is_error) errors++;
        CHECK(is_error == (memcmp(line, "{\"error\":", 9) == 0), "is_error agrees with the outcome of entry %zu", index);
        eat = end + 1;
    }
    CHECK(index == 23 && mismatches == 0, "case-004: 23 outcomes equal expect.jsonl (%zu entries, %zu mismatches)", index,
          mismatches);
    CHECK(errors == 1, "case-004 has one refused request, got %d", errors);

    /* reads: values and mod revisions of case-004.state.json */
    char buf[64];
    int64_t rev = 0;
    EXPECT(ME_OK, me_kv_get(kv, "\0\0", 2, buf, sizeof buf, &len, &rev, err));
    CHECK(len == 6 && memcmp(buf, "v1.5.0", 6) == 0 && rev == 12, "key 00 00 = v1.5.0 at revision 12");
    const char *schema = "/ceresmeta/cluster/cluster_a/schema/3";
    EXPECT(ME_OK, me_kv_get(kv, schema, strlen(schema), buf, sizeof buf, &len, &rev, err));
    CHECK(len == 11 && memcmp(buf, "\x08\x01\x12\x07metrics", 11) == 0 && rev == 15, "schema/3 at revision 15");
    EXPECT(ME_E_BUFFER_TOO_SMALL, me_kv_get(kv, schema, strlen(schema), buf, 4, &len, &rev, err));
    CHECK(len == 11, "too small: len 11");
    EXPECT(ME_E_NOT_FOUND, me_kv_get(kv, "nope", 4, buf, sizeof buf, &len, &rev, err));
    EXPECT(ME_E_ARGUMENT, me_kv_get(kv, NULL, 4, buf, sizeof buf, &len, &rev, err));
    EXPECT(ME_E_ARGUMENT, me_kv_get(kv, "nope", 0, buf, sizeof buf, &len, &rev, err));
    EXPECT(ME_E_ARGUMENT, me_kv_get(kv, "nope", 4, buf, sizeof buf, NULL, &rev, err));

    /* a payload that does not decode is an error outcome; a short buffer still applies */
    EXPECT(ME_OK, me_kv_apply(kv, index + 1, 1, "\xff\xff\xff", 3, line, sizeof line, &len, &is_error, err));
    CHECK(is_error == 1 && memcmp(line, "{\"error\":", 9) == 0, "undecodable payload: %.*s", (int)len, line);
    EXPECT(ME_E_BUFFER_TOO_SMALL, me_kv_apply(kv, index + 2, 1, "\xff", 1, line, 4, &len, &is_error, err));
    CHECK(len > 4 && is_error == 1, "too small: len %zu", len);
    EXPECT(ME_E_ARGUMENT, me_kv_apply(kv, index + 3, 1, NULL, 3, line, sizeof line, &len, &is_error, err));
    /* A length past SSIZE_MAX (a negative one in a signed type) is refused, not trusted. */
    EXPECT(ME_E_ARGUMENT, me_kv_apply(kv, index + 3, 1, "\xff", (size_t)-1, line, sizeof line, &len, &is_error, err));
    EXPECT(ME_E_ARGUMENT, me_kv_apply(kv, index + 3, 1, "\xff", 1, line, sizeof line, NULL, &is_error, err));
    EXPECT(ME_E_ARGUMENT, me_kv_apply(NULL, 1, 1, "\xff", 1, line, sizeof line, &len, &is_error, err));
    EXPECT(ME_E_ARGUMENT, me_kv_get(NULL, "k", 1, buf, sizeof buf, &len, &rev, err));
    me_kv_free(kv);
    me_kv_free(NULL);
    free(commands);
    free(expect);
}
