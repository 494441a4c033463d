/*
 * metaengine.h: the C ABI of MetaEngine (C99), for hosts written in other languages.
 *
 * Link with -lMetaEngineC (the dynamic library product `MetaEngineC`; it needs the Swift runtime's
 * libraries at run time, see README.md "Hosts in other languages").
 *
 * Conventions, true of every function unless its comment says otherwise:
 *  - Every function returns an int: ME_OK (0) on success, else one of the ME_E_* codes. The last
 *    argument is an optional `me_error *`: when it is not NULL it receives the code and a message a
 *    person can act on (file, offset, index where they are known). NULL is allowed to ignore it.
 *  - Handles are opaque pointers. A NULL handle or a NULL required output pointer is ME_E_ARGUMENT; a
 *    handle that was closed answers ME_E_CLOSED. Nothing traps on bad input: no Swift error or Swift
 *    object crosses this boundary. `*_free` releases a handle's memory (closing it first if needed);
 *    after `*_free` the handle must not be used again (as after free(3)). Freeing NULL does nothing.
 *  - Buffers are caller-owned: a function copying out bytes takes (buf, cap, *len); it sets *len to the
 *    full length and answers ME_E_BUFFER_TOO_SMALL (copying nothing) when cap < *len, so the caller can
 *    retry with a larger buffer. Memory the library allocates (me_entries, me_influx_metadb) is released
 *    with the matching free function.
 *  - Thread safety is stated per handle type below. Calling `*_free` on a handle while another thread
 *    uses it is undefined behaviour.
 */
#ifndef METAENGINE_H
#define METAENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Errors ------------------------------------------------------------------------------------- */

enum {
    ME_OK = 0,
    ME_E_ARGUMENT = 1,         /* NULL handle/pointer, out-of-range or malformed argument */
    ME_E_CLOSED = 2,           /* the handle was closed (or a writer already published/abandoned) */
    ME_E_NOT_FOUND = 3,        /* no such snapshot / named value */
    ME_E_COMPACTED = 4,        /* log index below the first index (removed by a prefix removal) */
    ME_E_UNAVAILABLE = 5,      /* log index past the last index */
    ME_E_NON_CONTIGUOUS = 6,   /* an append that does not start at last index + 1 */
    ME_E_CORRUPT = 7,          /* damaged bytes on disk: the message names file, offset, index */
    ME_E_IO = 8,               /* a system call failed (message names operation, file, errno) */
    ME_E_NO_SPACE = 9,         /* ENOSPC: nothing was written, the handle stays usable */
    ME_E_LOCKED = 10,          /* another process or handle holds the log directory */
    ME_E_FAILED = 11,          /* fail-stop after a failed fsync: every later call fails */
    ME_E_BUFFER_TOO_SMALL = 12,/* cap < *len: nothing copied, *len says what is needed */
    ME_E_EXISTS = 13,          /* that snapshot is already published */
    ME_E_FORMAT = 14,          /* bytes that are not a valid snapshot / meta.db / command stream */
    ME_E_INTERNAL = 15,        /* anything else (a bug): the message says what */
    ME_E_WOULD_TRUNCATE_COMMITTED = 16, /* a truncation at or below the durable commit index, refused */
    ME_E_TIMED_OUT = 17        /* a wait ended before the awaited index was reached */
};

/* Where a failure is described. Caller-owned; `message` is always NUL-terminated (truncated to fit). */
typedef struct me_error {
    int32_t code;
    char message[500];
} me_error;

/* A static, NUL-terminated name of `code` ("ME_OK", "ME_E_CLOSED", ..., "ME_E_UNKNOWN").
 * Thread-safe, no allocation. */
const char *me_code_name(int code);

/* The library version as a static string ("MetaEngineC 1"). Thread-safe. */
const char *me_version(void);

/* ---- Log --------------------------------------------------------------------------------------- */

/* A segmented log plus its durable host state (hard state and named values), one directory.
 * Thread-safety: every me_log_* function may be called from any thread at the same time as any other
 * on the same handle, except me_log_free. Appends, truncation, prefix removal, sync and hard-state /
 * named-value writes are serialized; reads run concurrently with each other. */
typedef struct me_log me_log;

/* Raft's hard state. */
typedef struct me_hard_state {
    uint64_t term;
    uint64_t vote;
    uint64_t commit;
} me_hard_state;

/* Durability policies for me_log_open. */
enum {
    ME_SYNC_EVERY_APPEND = 0, /* each append returns after its own fdatasync */
    ME_GROUP_COMMIT = 1,      /* concurrent appends share one fdatasync; each returns once durable */
    ME_MANUAL_SYNC = 2        /* appends only write; entries are durable after me_log_sync */
};

/* Opens (creating if needed) the log in directory `dir`, takes its lock and recovers (a torn tail is
 * cut; other damage is ME_E_CORRUPT naming file, offset and index). `segment_bytes` is the rotation
 * size (0 means 64 MiB; else 4 KiB .. 2 GiB), `durability` one of ME_SYNC_EVERY_APPEND,
 * ME_GROUP_COMMIT, ME_MANUAL_SYNC. Errors: ME_E_ARGUMENT, ME_E_LOCKED, ME_E_CORRUPT, ME_E_IO.
 * Cost: reads each sealed segment's footer and scans the last segment. */
int me_log_open(const char *dir, uint64_t segment_bytes, int durability, me_log **out, me_error *err);

/* Syncs (manual durability) and closes the log, releasing the directory lock; later calls answer
 * ME_E_CLOSED. Closing twice is ME_OK. Errors: ME_E_FAILED when the final sync fails. */
int me_log_close(me_log *log, me_error *err);

/* Closes (ignoring errors) and releases the handle. NULL does nothing. */
void me_log_free(me_log *log);

/* Appends `count` (>= 1) entries as one batch with one write(2). Entry i has term terms[i], kind
 * kinds[i] (kinds may be NULL: all 0) and payload bytes payloads[off_i .. off_i + lengths[i]) where
 * off_i is the sum of the earlier lengths (payloads may be NULL when every length is 0).
 * `first_index` 0 appends at last index + 1; otherwise it must equal last index + 1
 * (ME_E_NON_CONTIGUOUS). On success *last_index (optional) is the index of the last entry. Durable
 * per the durability policy on return. Errors: ME_E_ARGUMENT, ME_E_NON_CONTIGUOUS, ME_E_NO_SPACE,
 * ME_E_FAILED, ME_E_CLOSED. Cost: one copy of the payloads into the write buffer, no per-entry
 * allocation. */
int me_log_append(me_log *log, uint64_t first_index, size_t count, const uint64_t *terms,
                  const uint8_t *kinds, const uint32_t *lengths, const void *payloads,
                  uint64_t *last_index, me_error *err);

/* Raft append: the entries (flat arrays as me_log_append) go at `first_index` (>= 1), which may be at
 * most last index + 1; entries already at >= first_index are replaced (conflict overwrite). `state`
 * (optional) becomes durable together with the entries, in the same sync (named values are kept).
 * Errors: ME_E_ARGUMENT (first_index 0, count 0, NULL arrays), ME_E_NON_CONTIGUOUS (a gap, or below
 * the first index), ME_E_WOULD_TRUNCATE_COMMITTED, ME_E_NO_SPACE, ME_E_FAILED, ME_E_CLOSED. Durable per
 * the durability policy on return. Cost: as me_log_append, plus one truncation record on a conflict. */
int me_log_append_raft(me_log *log, uint64_t first_index, size_t count, const uint64_t *terms,
                       const uint8_t *kinds, const uint32_t *lengths, const void *payloads,
                       const me_hard_state *state, uint64_t *last_index, me_error *err);

/* Makes every appended entry durable (one fdatasync). Errors: ME_E_FAILED, ME_E_CLOSED. */
int me_log_sync(me_log *log, me_error *err);

/* Copies the entry at `index`: its term and kind (each output optional) and its payload into
 * buf[0..cap) (buf may be NULL when cap is 0); *len (required) is the payload length. Errors:
 * ME_E_COMPACTED, ME_E_UNAVAILABLE, ME_E_BUFFER_TOO_SMALL (term/kind/len still set), ME_E_CORRUPT
 * (checksum mismatch on read), ME_E_CLOSED. Cost: an in-memory lookup, one CRC32C and one copy. */
int me_log_entry(me_log *log, uint64_t index, uint64_t *term, uint8_t *kind, void *buf, size_t cap,
                 size_t *len, me_error *err);

/* Entries read by me_log_read: entry i has index first_index + i, term terms[i], kind kinds[i] and
 * payload payload[offsets[i] .. offsets[i + 1]). Owned by the library: release with me_entries_free. */
typedef struct me_entries {
    size_t count;
    uint64_t first_index;
    uint64_t *terms;
    uint8_t *kinds;
    size_t *offsets; /* count + 1 values */
    uint8_t *payload;
} me_entries;

/* Reads entries from `from`, at most `max_count` (0 means no limit), stopping before `max_bytes` of
 * payload (0 means no limit) but always at least one entry. *out gets a new me_entries.
 * Errors: ME_E_COMPACTED / ME_E_UNAVAILABLE for `from` itself, ME_E_CORRUPT, ME_E_CLOSED.
 * Cost: every frame's CRC is checked; three allocations in all. */
int me_log_read(me_log *log, uint64_t from, size_t max_count, size_t max_bytes, me_entries **out,
                me_error *err);

/* Releases what me_log_read returned. NULL does nothing. Thread-safe. */
void me_entries_free(me_entries *entries);

/* The first readable index (last index + 1 when the log is empty; 1 for a new log). O(1). */
int me_log_first_index(me_log *log, uint64_t *out, me_error *err);

/* The last index (first index - 1 when empty; 0 for a new log). O(1). */
int me_log_last_index(me_log *log, uint64_t *out, me_error *err);

/* The highest index known durable (MetaLog's durableIndex): entries up to it survive a power loss.
 * The last index may be ahead of it (ME_MANUAL_SYNC before me_log_sync, or while a group commit's
 * fdatasync runs). O(1). */
int me_log_durable_index(me_log *log, uint64_t *out, me_error *err);

/* The term of the entry at `index`. Errors as me_log_entry (without ME_E_BUFFER_TOO_SMALL). */
int me_log_term_at(me_log *log, uint64_t index, uint64_t *term, me_error *err);

/* Drops every entry after `index` (a Raft conflict), durably. `index >= last` does nothing;
 * `index < first - 1` is ME_E_COMPACTED. Cost: O(segments removed) plus two syncs. */
int me_log_truncate_after(me_log *log, uint64_t index, me_error *err);

/* Drops every entry through `index` (covered by a snapshot), durably. `index` may be past the last
 * index: the log becomes empty and continues at index + 1. `index < first` does nothing. */
int me_log_remove_prefix(me_log *log, uint64_t index, me_error *err);

/* ---- Durable host state (kept with the log) ---------------------------------------------------- */


/* The last saved hard state (all zero if never saved). O(1). */
int me_log_hard_state(me_log *log, me_hard_state *out, me_error *err);

/* Saves the hard state atomically and durably (temporary file, fsync, rename, directory fsync),
 * keeping the named values. Errors: ME_E_NO_SPACE (old state kept), ME_E_FAILED, ME_E_CLOSED. */
int me_log_set_hard_state(me_log *log, const me_hard_state *state, me_error *err);

/* Named values, a host's small stable store (hashicorp/raft's StableStore, etcd's extra metadata).
 * They live in the log's hard-state file (its context bytes, see docs/FORMAT.md "Named values"), so
 * every set or delete is one atomic, durable replacement of that file (temporary file, fsync, rename,
 * directory fsync), and the hard state and the values always come back together after a crash.
 * Keys are 1 .. 65535 bytes, values 0 .. 16 MiB; keep the whole set small (it is rewritten on each
 * change). Cost of a set: O(total size of the values) plus the syncs. */
int me_log_value_set(me_log *log, const void *key, size_t key_len, const void *value, size_t value_len,
                     me_error *err);

/* Copies the value of `key` into buf[0..cap); *len (required) is its length. Errors: ME_E_NOT_FOUND,
 * ME_E_BUFFER_TOO_SMALL, ME_E_CORRUPT (the stored values do not decode), ME_E_CLOSED. */
int me_log_value_get(me_log *log, const void *key, size_t key_len, void *buf, size_t cap, size_t *len,
                     me_error *err);

/* Removes `key` durably. Errors: ME_E_NOT_FOUND, and as me_log_value_set. */
int me_log_value_delete(me_log *log, const void *key, size_t key_len, me_error *err);

/* ---- Snapshot store ---------------------------------------------------------------------------- */

/* A directory of published snapshots (MetaSnapshot: chunked, LZ4, xxHash, atomic publish).
 * Thread-safety: a store and every writer, reader and receiver made from it share one lock, so their
 * functions may be called from any thread; they run one at a time. */
typedef struct me_snapstore me_snapstore;
/* A snapshot being written; nothing is visible until me_snapwriter_publish. */
typedef struct me_snapwriter me_snapwriter;
/* A published snapshot opened for reading its body (decompressed, checked chunk by chunk). */
typedef struct me_snapreader me_snapreader;
/* A snapshot arriving from another node as raw file bytes, resumable, verified before publishing. */
typedef struct me_snapreceiver me_snapreceiver;

/* A published snapshot's identity: the index and term of the last entry it includes. */
typedef struct me_snapshot_id {
    uint64_t index;
    uint64_t term;
} me_snapshot_id;

/* Header facts of an opened snapshot. */
typedef struct me_snapshot_info {
    uint64_t index;
    uint64_t term;
    uint32_t sm_version;      /* the state machine's encoding version */
    int64_t created_at_nanos; /* as given to me_snapstore_create */
    uint64_t body_bytes;      /* length of the (uncompressed) body */
    uint64_t file_bytes;      /* length of the stored file */
    size_t membership_len;    /* see me_snapreader_membership */
    size_t kind_len;          /* see me_snapreader_kind */
} me_snapshot_info;

/* Opens (creating if missing) the store in `dir` and removes leftover temporary files.
 * Errors: ME_E_ARGUMENT, ME_E_IO. */
int me_snapstore_open(const char *dir, me_snapstore **out, me_error *err);

/* Closes the store: later calls on it, and publish/finish of its writers and receivers, answer
 * ME_E_CLOSED; readers already open keep working. Closing twice is ME_OK. */
int me_snapstore_close(me_snapstore *store, me_error *err);

/* Releases the store handle (its writers, readers and receivers stay valid until freed). */
void me_snapstore_free(me_snapstore *store);

/* Starts a snapshot of state machine `kind` (NUL-terminated, e.g. "influxdb-meta"), body encoding
 * `sm_version`, covering the log through (`index`, `term`), with opaque `membership` bytes (may be
 * NULL when membership_len is 0) and a caller-chosen creation time. Errors: ME_E_EXISTS when that id
 * is already published, ME_E_ARGUMENT, ME_E_IO, ME_E_CLOSED. */
int me_snapstore_create(me_snapstore *store, const char *kind, uint32_t sm_version, uint64_t index,
                        uint64_t term, const void *membership, size_t membership_len,
                        int64_t created_at_nanos, me_snapwriter **out, me_error *err);

/* Appends body bytes (streamed into LZ4 chunks; bounded memory). Errors: ME_E_IO, ME_E_NO_SPACE,
 * ME_E_CLOSED (after publish/abandon). */
int me_snapwriter_write(me_snapwriter *writer, const void *data, size_t len, me_error *err);

/* Finishes (fsync), renames into place and fsyncs the directory: on ME_OK the snapshot is durable and
 * listed. The writer is then closed. On error nothing is published and the writer is closed. */
int me_snapwriter_publish(me_snapwriter *writer, me_snapshot_id *id, me_error *err);

/* Drops an unpublished writer and its temporary file; the writer is then closed. ME_OK if already
 * closed. */
int me_snapwriter_abandon(me_snapwriter *writer, me_error *err);

/* Abandons the writer if still open, then releases it. NULL does nothing. */
void me_snapwriter_free(me_snapwriter *writer);

/* Published snapshots, newest first, into ids[0..cap); *count (required) is how many there are.
 * ME_E_BUFFER_TOO_SMALL (nothing copied) when cap < *count. */
int me_snapstore_list(me_snapstore *store, me_snapshot_id *ids, size_t cap, size_t *count,
                      me_error *err);

/* Removes a published snapshot durably. Errors: ME_E_NOT_FOUND, ME_E_IO, ME_E_CLOSED. */
int me_snapstore_delete(me_snapstore *store, uint64_t index, uint64_t term, me_error *err);

/* Keeps the newest `newest` snapshots and deletes the others; *deleted (optional) says how many. */
int me_snapstore_retain(me_snapstore *store, size_t newest, size_t *deleted, me_error *err);

/* Opens a published snapshot. Errors: ME_E_NOT_FOUND, ME_E_FORMAT / ME_E_CORRUPT (header or footer
 * damaged; the message names the offset of the first bad byte), ME_E_IO, ME_E_CLOSED. */
int me_snapstore_open_reader(me_snapstore *store, uint64_t index, uint64_t term, me_snapreader **out,
                             me_error *err);

/* The snapshot's header facts. */
int me_snapreader_info(me_snapreader *reader, me_snapshot_info *out, me_error *err);

/* Copies the state-machine kind (not NUL-terminated) into buf[0..cap); *len is its length. */
int me_snapreader_kind(me_snapreader *reader, char *buf, size_t cap, size_t *len, me_error *err);

/* Copies the membership bytes into buf[0..cap); *len is their length. */
int me_snapreader_membership(me_snapreader *reader, void *buf, size_t cap, size_t *len, me_error *err);

/* Reads the next body bytes into buf[0..cap); *n is how many (0 only at the end of the body).
 * Each chunk's xxHash is checked before its bytes are returned: ME_E_CORRUPT names the offset. */
int me_snapreader_read(me_snapreader *reader, void *buf, size_t cap, size_t *n, me_error *err);

/* Closes the reader (later calls answer ME_E_CLOSED). Closing twice is ME_OK. */
int me_snapreader_close(me_snapreader *reader, me_error *err);

/* Closes and releases the reader. NULL does nothing. */
void me_snapreader_free(me_snapreader *reader);

/* Transfer, sender side: the size of a published snapshot file. Errors: ME_E_NOT_FOUND. */
int me_snapstore_file_size(me_snapstore *store, uint64_t index, uint64_t term, uint64_t *size,
                           me_error *err);

/* Transfer, sender side: copies up to `cap` stored bytes from `offset` into buf; *n is how many
 * (fewer at the end, 0 at the end). Errors: ME_E_NOT_FOUND, ME_E_ARGUMENT (offset past the end). */
int me_snapstore_read_raw(me_snapstore *store, uint64_t index, uint64_t term, uint64_t offset, void *buf,
                          size_t cap, size_t *n, me_error *err);

/* Transfer, receiver side: a receiver for snapshot (index, term). If a partial file of that id is
 * left from an earlier attempt, it resumes from its length (see me_snapreceiver_offset). */
int me_snapstore_receiver(me_snapstore *store, uint64_t index, uint64_t term, me_snapreceiver **out,
                          me_error *err);

/* How many bytes the receiver holds: the next piece must start at or before this offset. */
int me_snapreceiver_offset(me_snapreceiver *receiver, uint64_t *offset, me_error *err);

/* Appends a piece of the file that starts at `offset`; bytes already held are skipped. Errors:
 * ME_E_ARGUMENT when `offset` is past me_snapreceiver_offset (a gap), ME_E_IO, ME_E_CLOSED. */
int me_snapreceiver_append(me_snapreceiver *receiver, uint64_t offset, const void *data, size_t len,
                           me_error *err);

/* Makes the bytes received so far durable (a resumed receiver keeps them). */
int me_snapreceiver_sync(me_snapreceiver *receiver, me_error *err);

/* Verifies the whole file and publishes it; the receiver is then closed. On ME_E_FORMAT /
 * ME_E_CORRUPT the partial file is removed (restart from offset 0). */
int me_snapreceiver_finish(me_snapreceiver *receiver, me_error *err);

/* Drops the partial file; the receiver is then closed. ME_OK if already closed. */
int me_snapreceiver_abandon(me_snapreceiver *receiver, me_error *err);

/* Releases the receiver, keeping its partial file for a later resume. NULL does nothing. */
void me_snapreceiver_free(me_snapreceiver *receiver);

/* ---- State machine: InfluxDB 1.6.7 meta store --------------------------------------------------- */

/* The InfluxDB meta store (MetaFSM's InfluxStateMachine): entries are meta.Command bytes, snapshots
 * are meta.db files. Thread-safety: each handle has its own lock; calls on one handle run one at a
 * time, different handles are independent. */
typedef struct me_influx me_influx;

/* Where "now" of an entry comes from (never the local clock). */
enum {
    ME_CLOCK_INDEX_SECONDS = 0, /* now = 1577836800 + entry index seconds (the conformance fixtures) */
    ME_CLOCK_LEADER_STAMPED = 1 /* payload = 8-byte little-endian Unix nanoseconds + command */
};

/* A machine in the empty state. Errors: ME_E_ARGUMENT (unknown clock). */
int me_influx_new(int clock, me_influx **out, me_error *err);

/* Releases the machine. NULL does nothing. */
void me_influx_free(me_influx *machine);

/* Applies one committed entry; Term and Index are stamped whether or not the command succeeded.
 * ME_OK in both cases: *rejected (required) is 0 when applied, 1 when InfluxDB rejects the command
 * (or the payload does not decode); then msg[0..cap) gets the error text (InfluxDB's exact string,
 * NUL-terminated, truncated to fit; msg may be NULL) and *msg_len (optional) its full length.
 * Cost: one decode and the command's own work; no allocation beyond what the command stores. */
int me_influx_apply(me_influx *machine, uint64_t index, uint64_t term, const void *payload, size_t len,
                    int *rejected, char *msg, size_t cap, size_t *msg_len, me_error *err);

/* Index and term of the last applied entry (0, 0 before any). */
int me_influx_applied(me_influx *machine, uint64_t *index, uint64_t *term, me_error *err);

/* An independent copy of the machine's state (copy-on-write: O(1) now, the copy is paid when one of
 * the two changes), for writing a snapshot while the original keeps applying. */
int me_influx_clone(me_influx *machine, me_influx **out, me_error *err);

/* Writes the state as a meta.db body into `writer` (which the caller then publishes).
 * Cost: O(state size). Errors: as me_snapwriter_write. */
int me_influx_write_snapshot(me_influx *machine, me_snapwriter *writer, me_error *err);

/* Replaces the state with the meta.db body of `reader` (kind must be "influxdb-meta": else
 * ME_E_FORMAT); on any error the state is unchanged. */
int me_influx_restore(me_influx *machine, me_snapreader *reader, me_error *err);

/* Replaces the state with a meta.db given as bytes. ME_E_FORMAT (state unchanged) when invalid. */
int me_influx_restore_bytes(me_influx *machine, const void *data, size_t len, me_error *err);

/* The state as meta.db bytes in a new malloc'd buffer (*out, *len), released with me_free. */
int me_influx_metadb(me_influx *machine, uint8_t **out, size_t *len, me_error *err);

/* Releases memory returned by the library through a uint8_t ** (me_influx_metadb). NULL is fine. */
void me_free(void *ptr);

/* ---- Engine (log + InfluxDB meta state machine + snapshots, one directory) --------------------- */

/* MetaEngine running the InfluxDB meta store: a host's consensus proposes or appends entries, moves
 * the commit index, and the engine applies committed commands on its own thread, snapshots every N
 * entries (meta.db bodies) and compacts its log. Entry kinds: 0 command (applied), 1 no-op,
 * 2 membership, 3-255 host-defined (stored, not applied).
 * Thread-safety: every me_engine_* function may be called from any thread at the same time as any
 * other on the same handle, except me_engine_free. Proposals from several threads share one
 * fdatasync (group commit); me_engine_wait_applied blocks only its caller. */
typedef struct me_engine me_engine;

/* Options for me_engine_open; a zero field means the engine's default. */
typedef struct me_engine_options {
    uint64_t snapshot_every_entries; /* snapshot after this many applied entries (default 100000) */
    uint64_t trailing_entries;       /* entries kept in the log behind a snapshot (default 10000) */
    uint32_t retain_snapshots;       /* snapshots kept on disk (default 2) */
    int32_t clock;                   /* ME_CLOCK_INDEX_SECONDS or ME_CLOCK_LEADER_STAMPED */
} me_engine_options;

/* Opens (creating if needed) the engine in `dir` and recovers: newest valid snapshot, then the log
 * through the saved commit index. `options` may be NULL (defaults, ME_CLOCK_INDEX_SECONDS).
 * Errors: ME_E_ARGUMENT, ME_E_LOCKED, ME_E_CORRUPT (log gap, damaged state), ME_E_FORMAT (a snapshot
 * of another kind), ME_E_IO (also when the system will not start the engine's threads: the message
 * names the thread and errno, and the directory is released for a retry). Cost: the snapshot restore
 * plus the replay. */
int me_engine_open(const char *dir, const me_engine_options *options, me_engine **out, me_error *err);

/* Stops the apply and snapshot threads, saves the commit index and closes the log; later calls answer
 * ME_E_CLOSED and blocked waits end with ME_E_CLOSED. Closing twice is ME_OK. */
int me_engine_close(me_engine *engine, me_error *err);

/* Closes (ignoring errors) and releases the handle. NULL does nothing. */
void me_engine_free(me_engine *engine);

/* Leader proposal: appends the entries (flat arrays as me_log_append: terms, optional kinds, lengths,
 * concatenated payloads) after the last index and blocks until they are durable. On success
 * *first_index / *last_index (each optional) are the range they got. Not committed by this: call
 * me_engine_commit when the consensus says so. Errors: ME_E_ARGUMENT, ME_E_NO_SPACE, ME_E_FAILED,
 * ME_E_CLOSED. Cost: one copy of the payloads; concurrent proposals share a sync. */
int me_engine_propose(me_engine *engine, size_t count, const uint64_t *terms, const uint8_t *kinds,
                      const uint32_t *lengths, const void *payloads, uint64_t *first_index,
                      uint64_t *last_index, me_error *err);

/* Follower append at `index` (>= 1, at most last index + 1): entries at >= index are replaced
 * (conflict overwrite); blocks until durable. Errors: ME_E_NON_CONTIGUOUS, ME_E_COMPACTED,
 * ME_E_WOULD_TRUNCATE_COMMITTED (a committed entry would change), and as me_engine_propose. */
int me_engine_append(me_engine *engine, uint64_t index, size_t count, const uint64_t *terms,
                     const uint8_t *kinds, const uint32_t *lengths, const void *payloads,
                     uint64_t *last_index, me_error *err);

/* Moves the commit index to `index` (lower values are ignored); the apply thread applies committed
 * entries the log holds. With `durable` non-zero the commit index is saved before returning (one
 * fdatasync); otherwise with the next appended group or at close. Errors: ME_E_FAILED, ME_E_CLOSED. */
int me_engine_commit(me_engine *engine, uint64_t index, int durable, me_error *err);

/* Blocks until entry `index` is applied or `timeout_ms` passes (ME_E_TIMED_OUT). Then *rejected
 * (required) is 0 when the command succeeded (or the entry is not a command), 1 when InfluxDB refused
 * it (its error text, e.g. "database already exists", is copied NUL-terminated and truncated into
 * msg[0..cap) when msg is not NULL, *msg_len (optional) its full length), or -1 when the result is no
 * longer held (older than the engine's result window, or covered by a snapshot the engine restored).
 * A timeout above 2^40 ms (about 34 years) counts as that. Errors: ME_E_TIMED_OUT, ME_E_CLOSED,
 * ME_E_FAILED. Cost: blocks only the caller; O(waiters) per applied batch on the apply thread. */
int me_engine_wait_applied(me_engine *engine, uint64_t index, uint64_t timeout_ms, int *rejected, char *msg,
                           size_t cap, size_t *msg_len, me_error *err);

/* Index queries, O(1): the first index in the log, the last, the commit index, the applied index. */
int me_engine_first_index(me_engine *engine, uint64_t *out, me_error *err);
int me_engine_last_index(me_engine *engine, uint64_t *out, me_error *err);
int me_engine_commit_index(me_engine *engine, uint64_t *out, me_error *err);
int me_engine_applied_index(me_engine *engine, uint64_t *out, me_error *err);

/* The term of the entry at `index` (first index - 1 answers the snapshot boundary's term).
 * Errors: ME_E_COMPACTED, ME_E_UNAVAILABLE, ME_E_CLOSED. O(1) from memory. */
int me_engine_term_at(me_engine *engine, uint64_t index, uint64_t *term, me_error *err);

/* Takes a snapshot of the applied state now (blocking until it is published) and compacts the log
 * behind it per trailing_entries; *index / *term (optional) name it. Errors: ME_E_IO, ME_E_NO_SPACE,
 * ME_E_CLOSED. Cost: O(state size) on a snapshot thread; applying continues meanwhile. */
int me_engine_snapshot(me_engine *engine, uint64_t *index, uint64_t *term, me_error *err);

/* The applied state as meta.db bytes. With buf != NULL they are copied into buf[0..cap) (*len the full
 * length, ME_E_BUFFER_TOO_SMALL when cap < *len); with buf NULL and `out` non-NULL, *out gets a new
 * malloc'd buffer released with me_free. Cost: O(state size). */
int me_engine_metadb(me_engine *engine, void *buf, size_t cap, uint8_t **out, size_t *len, me_error *err);

/* The host's saved term and vote with the current commit index. */
int me_engine_host_state(me_engine *engine, me_hard_state *out, me_error *err);

/* Saves term and vote durably (the commit index becomes the higher of state->commit and the current
 * one), keeping the named values. Errors: ME_E_NO_SPACE, ME_E_FAILED, ME_E_CLOSED. */
int me_engine_set_host_state(me_engine *engine, const me_hard_state *state, me_error *err);

/* Named host values kept with the hard state: keys are UTF-8, 1 .. 65535 bytes, not starting with
 * "engine." (ME_E_ARGUMENT). Set is durable (one fdatasync); get copies into buf[0..cap), *len
 * (required) its length, ME_E_NOT_FOUND when absent. */
int me_engine_value_set(me_engine *engine, const char *key, const void *value, size_t value_len, me_error *err);
int me_engine_value_get(me_engine *engine, const char *key, void *buf, size_t cap, size_t *len, me_error *err);

/* ---- Key-value machine (etcd 3.4's v3 store, MetaKV) ------------------------------------------ */

/* etcd 3.4's key-value state machine in memory. Each entry is an encoded etcd InternalRaftRequest.
 * Thread-safety: calls on one handle may come from any thread; they run one at a time. */
typedef struct me_kv me_kv;

/* A new empty store (revision 1). */
int me_kv_new(me_kv **out, me_error *err);

/* Releases the store. NULL does nothing. */
void me_kv_free(me_kv *kv);

/* Applies the entry at `index`/`term` (the caller gives entries in log order; the applied index
 * becomes `index`) and copies the outcome as the conformance fixtures' canonical JSON line (e.g.
 * {"put":{"header":{"revision":"2"},"prev_kv":null}} or {"error":"etcdserver: ..."}; no newline, not
 * NUL-terminated) into buf[0..cap); *len (required) is
 * its length, ME_E_BUFFER_TOO_SMALL when it does not fit (the entry is applied all the same).
 * *is_error (optional) is 1 when etcd refused it. A payload that does not decode is an error outcome,
 * not a failure of the call. Cost: decode plus O(log n) per key touched. */
int me_kv_apply(me_kv *kv, uint64_t index, uint64_t term, const void *payload, size_t payload_len,
                void *buf, size_t cap, size_t *len, int *is_error, me_error *err);

/* The current value of `key`: copied into buf[0..cap), *len (required) its length, *mod_revision
 * (optional) the revision of its last change. ME_E_NOT_FOUND when the key does not exist. */
int me_kv_get(me_kv *kv, const void *key, size_t key_len, void *buf, size_t cap, size_t *len,
              int64_t *mod_revision, me_error *err);

#ifdef __cplusplus
}
#endif
#endif /* METAENGINE_H */
