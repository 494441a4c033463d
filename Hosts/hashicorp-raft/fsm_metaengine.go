// raft.FSM on MetaFSM's InfluxDB meta store (through the C ABI), in leader-stamped clock mode: each
// command entry is 8 bytes of the leader's clock (little-endian Unix nanoseconds) + a meta.Command.
package main

/*
#include "metaengine.h"
*/
import "C"

import (
	"errors"
	"io"
	"io/ioutil"
	"sync"
	"unsafe"

	"github.com/hashicorp/raft"
)

// meFSM applies committed commands with the Swift InfluxStateMachine.
type meFSM struct {
	mu sync.Mutex
	m  *C.me_influx
}

func newMEFSM() (*meFSM, error) {
	var e C.me_error
	f := &meFSM{}
	if err := check(C.me_influx_new(C.ME_CLOCK_LEADER_STAMPED, &f.m, &e), &e); err != nil {
		return nil, err
	}
	return f, nil
}

// Apply returns nil when the command was applied, else InfluxDB's error (as an error value).
func (f *meFSM) Apply(l *raft.Log) interface{} {
	if l.Type != raft.LogCommand {
		return nil
	}
	var e C.me_error
	var rejected C.int
	var msg [256]C.char
	f.mu.Lock()
	rc := C.me_influx_apply(f.m, C.uint64_t(l.Index), C.uint64_t(l.Term), bytesPtr(l.Data), C.size_t(len(l.Data)),
		&rejected, &msg[0], C.size_t(len(msg)), nil, &e)
	f.mu.Unlock()
	if err := check(rc, &e); err != nil {
		return err
	}
	if rejected != 0 {
		return errors.New(C.GoString(&msg[0]))
	}
	return nil
}

// Snapshot takes a copy-on-write clone; Persist writes it while Apply goes on.
func (f *meFSM) Snapshot() (raft.FSMSnapshot, error) {
	var e C.me_error
	s := &meFSMSnapshot{}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := check(C.me_influx_clone(f.m, &s.m, &e), &e); err != nil {
		return nil, err
	}
	return s, nil
}

// Restore replaces the state with a meta.db: straight from a MetaSnapshot reader when the snapshot
// store is ours, else from the bytes of the stream.
func (f *meFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var e C.me_error
	if r, ok := rc.(*meSnapshotReader); ok {
		f.mu.Lock()
		defer f.mu.Unlock()
		return check(C.me_influx_restore(f.m, r.r, &e), &e)
	}
	b, err := ioutil.ReadAll(rc)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return check(C.me_influx_restore_bytes(f.m, bytesPtr(b), C.size_t(len(b)), &e), &e)
}

// AppliedIndex is the machine's applied index (Data.Index): the last command entry applied.
func (f *meFSM) AppliedIndex() uint64 {
	var e C.me_error
	var index, term C.uint64_t
	f.mu.Lock()
	defer f.mu.Unlock()
	if check(C.me_influx_applied(f.m, &index, &term, &e), &e) != nil {
		return 0
	}
	return uint64(index)
}

// MetaDB returns the state as meta.db bytes.
func (f *meFSM) MetaDB() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return metaDBOf(f.m)
}

func metaDBOf(m *C.me_influx) ([]byte, error) {
	var e C.me_error
	var p *C.uint8_t
	var n C.size_t
	if err := check(C.me_influx_metadb(m, &p, &n, &e), &e); err != nil {
		return nil, err
	}
	defer C.me_free(unsafe.Pointer(p))
	return C.GoBytes(unsafe.Pointer(p), C.int(n)), nil
}

// meFSMSnapshot is a clone of the machine, written as meta.db.
type meFSMSnapshot struct {
	m *C.me_influx
}

// Persist streams the clone into the sink: through the C library when the sink is ours, else as bytes.
func (s *meFSMSnapshot) Persist(sink raft.SnapshotSink) error {
	if k, ok := sink.(*meSnapshotSink); ok {
		var e C.me_error
		if err := check(C.me_influx_write_snapshot(s.m, k.writer, &e), &e); err != nil {
			sink.Cancel()
			return err
		}
		return sink.Close()
	}
	b, err := metaDBOf(s.m)
	if err == nil {
		_, err = sink.Write(b)
	}
	if err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

// Release frees the clone.
func (s *meFSMSnapshot) Release() { C.me_influx_free(s.m) }
