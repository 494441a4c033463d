/* The C ABI test: me_snapstore_*, writers, readers and transfer receivers. */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- snapshots ---- */

void test_snapshots(void) {
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

