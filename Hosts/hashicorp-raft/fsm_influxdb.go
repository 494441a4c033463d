// The baseline raft.FSM: InfluxDB 1.6.7's own Go meta.Data, each command applied through the
// conformance oracle's dispatcher (../shared/conformance/oracle/apply.go, copied next to this file
// at build time by the run script: it maps every meta.Command onto 1.6.7's Data methods). Like
// InfluxDB's meta client, a command runs on a clone of Data that replaces it only on success.
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/ioutil"
	"sort"
	"sync"

	"github.com/gogo/protobuf/proto"
	"github.com/hashicorp/raft"
	"github.com/influxdata/influxdb/services/meta"
	pb "github.com/influxdata/influxdb/services/meta/internal"
)

// goFSM is InfluxDB's Go state machine.
type goFSM struct {
	mu   sync.Mutex
	data *meta.Data
}

func newGoFSM() *goFSM { return &goFSM{data: &meta.Data{}} }

// Apply decodes the leader's clock and the command and applies it; Term and Index are stamped either way.
func (f *goFSM) Apply(l *raft.Log) interface{} {
	if l.Type != raft.LogCommand {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	defer func() { f.data.Term, f.data.Index = l.Term, l.Index }()
	if len(l.Data) < 8 {
		return fmt.Errorf("entry %d: shorter than the 8-byte clock", l.Index)
	}
	nowNanos := int64(binary.LittleEndian.Uint64(l.Data[:8]))
	var cmd pb.Command
	if err := proto.Unmarshal(l.Data[8:], &cmd); err != nil {
		return err
	}
	// The dispatcher's clock is ClockBaseUnixSeconds + n seconds; stamps are whole seconds.
	n := int(nowNanos/1e9 - ClockBaseUnixSeconds)
	next := f.data.Clone()
	if err := dispatch(next, n, &cmd); err != nil {
		return err
	}
	f.data = next
	return nil
}

// Snapshot clones Data; Persist marshals the clone.
func (f *goFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &goFSMSnapshot{data: f.data.Clone()}, nil
}

// Restore reads a meta.db.
func (f *goFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b, err := ioutil.ReadAll(rc)
	if err != nil {
		return err
	}
	d := &meta.Data{}
	if err := d.UnmarshalBinary(b); err != nil {
		return err
	}
	f.mu.Lock()
	f.data = d
	f.mu.Unlock()
	return nil
}

// AppliedIndex is Data.Index: the last command entry applied.
func (f *goFSM) AppliedIndex() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.data.Index
}

// MetaDB returns the state as meta.db bytes.
func (f *goFSM) MetaDB() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return stableMarshal(f.data)
}

// stableMarshal is Data.MarshalBinary with each user's privileges in database-name order:
// MarshalBinary walks a Go map there, so without this two replicas' meta.db bytes could differ.
func stableMarshal(d *meta.Data) ([]byte, error) {
	raw, err := d.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var p pb.Data
	if err := proto.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	for _, u := range p.Users {
		privileges := u.Privileges
		sort.SliceStable(privileges, func(i, j int) bool { return privileges[i].GetDatabase() < privileges[j].GetDatabase() })
	}
	return proto.Marshal(&p)
}

type goFSMSnapshot struct{ data *meta.Data }

func (s *goFSMSnapshot) Persist(sink raft.SnapshotSink) error {
	b, err := stableMarshal(s.data)
	if err == nil {
		_, err = sink.Write(b)
	}
	if err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *goFSMSnapshot) Release() {}
