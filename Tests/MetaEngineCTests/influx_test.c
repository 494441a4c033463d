/* The C ABI test: me_influx_* against the conformance fixture case-003 and through snapshots. */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- InfluxDB meta state machine ---- */

/* The n-th element of the fixture's expect.json array: NULL for null, else a malloc'd string. */
char **parse_expect(const unsigned char *json, size_t len, size_t *count) {
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

void test_influx(const char *fixtures) {
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

