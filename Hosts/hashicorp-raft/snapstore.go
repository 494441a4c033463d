// raft.SnapshotStore on MetaSnapshot (through the C ABI): each raft snapshot is one MetaSnapshot file
// (chunked, LZ4, xxHash, published by atomic rename). The membership bytes hold raft's configuration
// index (8 bytes little-endian) followed by raft.EncodeConfiguration of the configuration.
package main

/*
#include <stdlib.h>
#include "metaengine.h"
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"io"
	"unsafe"

	"github.com/hashicorp/raft"
)

// meSnapshotStore keeps the newest `retain` snapshots of one state-machine kind.
type meSnapshotStore struct {
	store  *C.me_snapstore
	kind   string
	retain int
}

func openMESnapshotStore(dir, kind string, retain int) (*meSnapshotStore, error) {
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	var e C.me_error
	s := &meSnapshotStore{kind: kind, retain: retain}
	if err := check(C.me_snapstore_open(cdir, &s.store, &e), &e); err != nil {
		return nil, err
	}
	return s, nil
}

func snapshotID(index, term uint64) string { return fmt.Sprintf("%d-%d", index, term) }

func parseSnapshotID(id string) (index, term uint64, err error) {
	if _, err = fmt.Sscanf(id, "%d-%d", &index, &term); err != nil {
		err = fmt.Errorf("snapshot id %q is not index-term: %v", id, err)
	}
	return
}

// Create starts a snapshot; nothing is visible until the sink is closed.
func (s *meSnapshotStore) Create(version raft.SnapshotVersion, index, term uint64, configuration raft.Configuration,
	configurationIndex uint64, trans raft.Transport) (raft.SnapshotSink, error) {
	if version != 1 {
		return nil, fmt.Errorf("unsupported snapshot version %d", version)
	}
	members := make([]byte, 8)
	binary.LittleEndian.PutUint64(members, configurationIndex)
	members = append(members, raft.EncodeConfiguration(configuration)...)
	ckind := C.CString(s.kind)
	defer C.free(unsafe.Pointer(ckind))
	cmembers := C.CBytes(members)
	defer C.free(cmembers)
	var e C.me_error
	sink := &meSnapshotSink{store: s, id: snapshotID(index, term)}
	err := check(C.me_snapstore_create(s.store, ckind, 1, C.uint64_t(index), C.uint64_t(term), cmembers,
		C.size_t(len(members)), 0, &sink.writer, &e), &e)
	if isCode(err, C.ME_E_EXISTS) {
		// Same index and term means the same committed prefix, so the same state: the published file
		// already holds this snapshot (raft re-sends an install, or snapshots again right after one).
		return &existingSnapshotSink{id: sink.id}, nil
	}
	if err != nil {
		return nil, err
	}
	return sink, nil
}

// List returns the published snapshots, newest first, with their configuration and body size.
func (s *meSnapshotStore) List() ([]*raft.SnapshotMeta, error) {
	var e C.me_error
	var count C.size_t
	rc := C.me_snapstore_list(s.store, nil, 0, &count, &e)
	if rc != C.ME_OK && rc != C.ME_E_BUFFER_TOO_SMALL {
		return nil, check(rc, &e)
	}
	if count == 0 {
		return nil, nil
	}
	ids := make([]C.me_snapshot_id, int(count))
	if err := check(C.me_snapstore_list(s.store, &ids[0], count, &count, &e), &e); err != nil {
		return nil, err
	}
	var out []*raft.SnapshotMeta
	for _, id := range ids[:int(count)] {
		meta, r, err := s.openReader(uint64(id.index), uint64(id.term))
		if err != nil {
			return nil, err
		}
		C.me_snapreader_free(r)
		out = append(out, meta)
	}
	return out, nil
}

func (s *meSnapshotStore) openReader(index, term uint64) (*raft.SnapshotMeta, *C.me_snapreader, error) {
	var e C.me_error
	var r *C.me_snapreader
	if err := check(C.me_snapstore_open_reader(s.store, C.uint64_t(index), C.uint64_t(term), &r, &e), &e); err != nil {
		return nil, nil, err
	}
	var info C.me_snapshot_info
	if err := check(C.me_snapreader_info(r, &info, &e), &e); err != nil {
		C.me_snapreader_free(r)
		return nil, nil, err
	}
	members := make([]byte, int(info.membership_len))
	var n C.size_t
	if err := check(C.me_snapreader_membership(r, bytesPtr(members), C.size_t(len(members)), &n, &e), &e); err != nil {
		C.me_snapreader_free(r)
		return nil, nil, err
	}
	if len(members) < 8 {
		C.me_snapreader_free(r)
		return nil, nil, fmt.Errorf("snapshot %d-%d: %d membership bytes, need at least 8", index, term, len(members))
	}
	configuration, err := decodeConfiguration(members[8:])
	if err != nil {
		C.me_snapreader_free(r)
		return nil, nil, fmt.Errorf("snapshot %d-%d: membership bytes do not decode: %v", index, term, err)
	}
	return &raft.SnapshotMeta{
		Version: 1, ID: snapshotID(index, term), Index: index, Term: term,
		Configuration: configuration, ConfigurationIndex: binary.LittleEndian.Uint64(members[:8]),
		Size: int64(info.body_bytes),
	}, r, nil
}

// decodeConfiguration is raft.DecodeConfiguration without its panic on bad bytes.
func decodeConfiguration(b []byte) (c raft.Configuration, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return raft.DecodeConfiguration(b), nil
}

// Open opens a published snapshot; the reader streams its body (each chunk checked).
func (s *meSnapshotStore) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	index, term, err := parseSnapshotID(id)
	if err != nil {
		return nil, nil, err
	}
	meta, r, err := s.openReader(index, term)
	if err != nil {
		return nil, nil, err
	}
	return meta, &meSnapshotReader{r: r}, nil
}

// meSnapshotSink streams a snapshot into a MetaSnapshot writer.
type meSnapshotSink struct {
	store  *meSnapshotStore
	id     string
	writer *C.me_snapwriter
}

func (k *meSnapshotSink) ID() string { return k.id }

func (k *meSnapshotSink) Write(p []byte) (int, error) {
	var e C.me_error
	if err := check(C.me_snapwriter_write(k.writer, bytesPtr(p), C.size_t(len(p)), &e), &e); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close publishes the snapshot (fsync, rename, directory fsync) and drops the oldest beyond `retain`.
// A second Close does nothing (raft closes the sink after the FSM's Persist has closed it).
func (k *meSnapshotSink) Close() error {
	if k.writer == nil {
		return nil
	}
	var e C.me_error
	err := check(C.me_snapwriter_publish(k.writer, nil, &e), &e)
	C.me_snapwriter_free(k.writer)
	k.writer = nil
	if err != nil {
		return err
	}
	return check(C.me_snapstore_retain(k.store.store, C.size_t(k.store.retain), nil, &e), &e)
}

// Cancel drops the unpublished snapshot.
func (k *meSnapshotSink) Cancel() error {
	if k.writer == nil {
		return nil
	}
	var e C.me_error
	err := check(C.me_snapwriter_abandon(k.writer, &e), &e)
	C.me_snapwriter_free(k.writer)
	k.writer = nil
	return err
}

// meSnapshotReader reads a snapshot body; the FSM restores from its handle directly when it can.
type meSnapshotReader struct {
	r *C.me_snapreader
}

func (r *meSnapshotReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var e C.me_error
	var n C.size_t
	if err := check(C.me_snapreader_read(r.r, bytesPtr(p), C.size_t(len(p)), &n, &e), &e); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, io.EOF
	}
	return int(n), nil
}

func (r *meSnapshotReader) Close() error {
	if r.r != nil {
		C.me_snapreader_free(r.r)
		r.r = nil
	}
	return nil
}

// existingSnapshotSink stands for a snapshot that is already published: writes are dropped, Close keeps
// the published file.
type existingSnapshotSink struct{ id string }

func (k *existingSnapshotSink) ID() string                  { return k.id }
func (k *existingSnapshotSink) Write(p []byte) (int, error) { return len(p), nil }
func (k *existingSnapshotSink) Close() error                { return nil }
func (k *existingSnapshotSink) Cancel() error               { return nil }
