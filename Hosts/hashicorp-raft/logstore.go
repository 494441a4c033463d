// raft.LogStore and raft.StableStore on MetaEngine's log (MetaLog through the C ABI). Entries keep raft's
// index and term; the entry kind holds raft's LogType. StableStore values are the log's named values,
// stored with its hard state (one atomic, fsynced file replacement per Set).
package main

/*
#include <stdlib.h>
#include "metaengine.h"
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/hashicorp/raft"
)

// meLogStore is a raft.LogStore and raft.StableStore over one me_log.
type meLogStore struct {
	log *C.me_log
	// scratch pools the arrays StoreLogs hands to the C library, so an append allocates nothing per entry.
	scratch sync.Pool
}

// openMELogStore opens (creating) the log in dir with one fdatasync per append, as raft-boltdb syncs
// every transaction.
func openMELogStore(dir string) (*meLogStore, error) {
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	var e C.me_error
	s := &meLogStore{}
	if err := check(C.me_log_open(cdir, 0, C.ME_SYNC_EVERY_APPEND, &s.log, &e), &e); err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the log.
func (s *meLogStore) Close() error {
	var e C.me_error
	err := check(C.me_log_close(s.log, &e), &e)
	C.me_log_free(s.log)
	return err
}

func (s *meLogStore) bounds() (first, last uint64, err error) {
	var e C.me_error
	var f, l C.uint64_t
	if err = check(C.me_log_first_index(s.log, &f, &e), &e); err != nil {
		return
	}
	if err = check(C.me_log_last_index(s.log, &l, &e), &e); err != nil {
		return
	}
	return uint64(f), uint64(l), nil
}

// FirstIndex is the first index written, 0 for an empty log (raft's convention).
func (s *meLogStore) FirstIndex() (uint64, error) {
	first, last, err := s.bounds()
	if err != nil || last < first {
		return 0, err
	}
	return first, nil
}

// LastIndex is the last index written, 0 for an empty log.
func (s *meLogStore) LastIndex() (uint64, error) {
	first, last, err := s.bounds()
	if err != nil || last < first {
		return 0, err
	}
	return last, nil
}

// GetLog copies the entry at index into out; raft.ErrLogNotFound when it is not in the log.
func (s *meLogStore) GetLog(index uint64, out *raft.Log) error {
	var e C.me_error
	var term C.uint64_t
	var kind C.uint8_t
	var n C.size_t
	buf := make([]byte, 512)
	rc := C.me_log_entry(s.log, C.uint64_t(index), &term, &kind, bytesPtr(buf), C.size_t(len(buf)), &n, &e)
	if rc == C.ME_E_BUFFER_TOO_SMALL {
		buf = make([]byte, int(n))
		rc = C.me_log_entry(s.log, C.uint64_t(index), &term, &kind, bytesPtr(buf), C.size_t(len(buf)), &n, &e)
	}
	if rc == C.ME_E_COMPACTED || rc == C.ME_E_UNAVAILABLE {
		return raft.ErrLogNotFound
	}
	if err := check(rc, &e); err != nil {
		return err
	}
	out.Index = index
	out.Term = uint64(term)
	out.Type = raft.LogType(kind)
	out.Data = buf[:int(n)]
	out.Extensions = nil
	return nil
}

// StoreLog appends one entry.
func (s *meLogStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

type appendScratch struct {
	terms   []C.uint64_t
	kinds   []C.uint8_t
	lengths []C.uint32_t
	payload []byte
}

// StoreLogs appends the entries (contiguous indexes) as one batch: one write, one fdatasync. A batch
// that starts past the log's end (after a snapshot install) first drops the log so that it continues at
// the batch; one that starts inside it first drops the conflicting suffix.
func (s *meLogStore) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	start := logs[0].Index
	first, last, err := s.bounds()
	if err != nil {
		return err
	}
	var e C.me_error
	if start != last+1 {
		switch {
		case start > last+1:
			// A gap: raft only writes past its log after installing a snapshot that covers the gap, so
			// everything before `start` is dropped and the log continues at `start`.
			if err := check(C.me_log_remove_prefix(s.log, C.uint64_t(start-1), &e), &e); err != nil {
				return err
			}
		case start <= last && start >= first:
			if err := check(C.me_log_truncate_after(s.log, C.uint64_t(start-1), &e), &e); err != nil {
				return err
			}
		default:
			return fmt.Errorf("StoreLogs at %d: the log holds %d..%d", start, first, last)
		}
	}
	sc, _ := s.scratch.Get().(*appendScratch)
	if sc == nil {
		sc = &appendScratch{}
	}
	defer s.scratch.Put(sc)
	sc.terms, sc.kinds, sc.lengths, sc.payload = sc.terms[:0], sc.kinds[:0], sc.lengths[:0], sc.payload[:0]
	for i, l := range logs {
		if l.Index != start+uint64(i) {
			return fmt.Errorf("StoreLogs: index %d at position %d, expected %d", l.Index, i, start+uint64(i))
		}
		if len(l.Extensions) != 0 {
			return errors.New("StoreLogs: log extensions are not supported by this store")
		}
		sc.terms = append(sc.terms, C.uint64_t(l.Term))
		sc.kinds = append(sc.kinds, C.uint8_t(l.Type))
		sc.lengths = append(sc.lengths, C.uint32_t(len(l.Data)))
		sc.payload = append(sc.payload, l.Data...)
	}
	return check(C.me_log_append(s.log, C.uint64_t(start), C.size_t(len(logs)), &sc.terms[0], &sc.kinds[0],
		&sc.lengths[0], bytesPtr(sc.payload), nil, &e), &e)
}

// DeleteRange removes [min, max]: a prefix (compaction after a snapshot; the whole log after an
// install) or a suffix (a conflict). A range strictly inside the log is refused.
func (s *meLogStore) DeleteRange(min, max uint64) error {
	first, last, err := s.bounds()
	if err != nil {
		return err
	}
	var e C.me_error
	switch {
	case min <= first:
		return check(C.me_log_remove_prefix(s.log, C.uint64_t(max), &e), &e)
	case max >= last:
		return check(C.me_log_truncate_after(s.log, C.uint64_t(min-1), &e), &e)
	default:
		return fmt.Errorf("DeleteRange(%d, %d) inside the log %d..%d is not supported", min, max, first, last)
	}
}

// errNotFound is the exact error raft expects from a StableStore for a missing key.
var errNotFound = errors.New("not found")

// Set stores key durably.
func (s *meLogStore) Set(key []byte, val []byte) error {
	var e C.me_error
	return check(C.me_log_value_set(s.log, bytesPtr(key), C.size_t(len(key)), bytesPtr(val), C.size_t(len(val)), &e), &e)
}

// Get returns the value of key, or the error "not found".
func (s *meLogStore) Get(key []byte) ([]byte, error) {
	var e C.me_error
	var n C.size_t
	buf := make([]byte, 64)
	rc := C.me_log_value_get(s.log, bytesPtr(key), C.size_t(len(key)), bytesPtr(buf), C.size_t(len(buf)), &n, &e)
	if rc == C.ME_E_BUFFER_TOO_SMALL {
		buf = make([]byte, int(n))
		rc = C.me_log_value_get(s.log, bytesPtr(key), C.size_t(len(key)), bytesPtr(buf), C.size_t(len(buf)), &n, &e)
	}
	if rc == C.ME_E_NOT_FOUND {
		return nil, errNotFound
	}
	if err := check(rc, &e); err != nil {
		return nil, err
	}
	return buf[:int(n)], nil
}

// SetUint64 stores val as 8 bytes big-endian.
func (s *meLogStore) SetUint64(key []byte, val uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], val)
	return s.Set(key, b[:])
}

// GetUint64 reads a value stored by SetUint64.
func (s *meLogStore) GetUint64(key []byte) (uint64, error) {
	b, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("stable value %q holds %d bytes, not 8", key, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}
