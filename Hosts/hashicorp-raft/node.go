// One raft node: hashicorp/raft over TCP on loopback, with either MetaEngine's stores and FSM or
// raft-boltdb + FileSnapshotStore + InfluxDB's Go FSM, and a small HTTP control API on loopback
// that the cluster driver (driver.go) uses to propose commands and read state back.
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb"
)

// metaFSM is what both FSMs offer beyond raft.FSM.
type metaFSM interface {
	raft.FSM
	MetaDB() ([]byte, error)
	// AppliedIndex is the index of the last command entry the FSM has applied (Data.Index). raft's own
	// AppliedIndex moves when entries are handed to the FSM goroutine, before they are applied.
	AppliedIndex() uint64
}

type node struct {
	id    string
	raft  *raft.Raft
	fsm   metaFSM
	logs  raft.LogStore
	close func()
}

func runNode(args []string) {
	fs := flag.NewFlagSet("node", flag.ExitOnError)
	store := fs.String("store", "metaengine", "metaengine, boltdb or boltdb-swiftfsm")
	id := fs.String("id", "", "this node's id")
	dir := fs.String("dir", "", "data directory")
	bind := fs.String("raft", "", "raft TCP address (127.0.0.1:port)")
	control := fs.String("http", "", "control HTTP address (127.0.0.1:port)")
	peers := fs.String("peers", "", "id=addr,... of the initial cluster (with --bootstrap)")
	bootstrap := fs.Bool("bootstrap", false, "bootstrap the cluster from --peers when there is no state")
	threshold := fs.Uint64("snapshot-threshold", 8192, "raft SnapshotThreshold")
	trailing := fs.Uint64("trailing-logs", 10240, "raft TrailingLogs")
	interval := fs.Duration("snapshot-interval", 120*time.Second, "raft SnapshotInterval")
	election := fs.Duration("election-timeout", 300*time.Millisecond,
		"raft HeartbeatTimeout and ElectionTimeout (LeaderLeaseTimeout is half); hashicorp's default is 1s")
	fs.Parse(args)
	for _, a := range []string{*bind, *control} {
		if !strings.HasPrefix(a, "127.0.0.1:") {
			die("addresses must be on 127.0.0.1, got %q", a)
		}
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		die("%v", err)
	}
	n, err := startNode(*store, *id, *dir, *bind, *peers, *bootstrap, *threshold, *trailing, *interval, *election)
	if err != nil {
		die("node %s: %v", *id, err)
	}
	serveControl(n, *control)
}

func startNode(store, id, dir, bind, peers string, bootstrap bool, threshold, trailing uint64,
	interval, election time.Duration) (*node, error) {
	conf := raft.DefaultConfig()
	conf.LocalID = raft.ServerID(id)
	conf.HeartbeatTimeout = election
	conf.ElectionTimeout = election
	conf.LeaderLeaseTimeout = election / 2
	conf.CommitTimeout = 5 * time.Millisecond
	conf.SnapshotThreshold = threshold
	conf.TrailingLogs = trailing
	conf.SnapshotInterval = interval
	conf.Logger = hclog.New(&hclog.LoggerOptions{Name: "raft-" + id, Level: hclog.Warn, Output: os.Stderr})

	n := &node{id: id}
	var stable raft.StableStore
	var snaps raft.SnapshotStore
	switch store {
	case "metaengine":
		ls, err := openMELogStore(filepath.Join(dir, "log"))
		if err != nil {
			return nil, err
		}
		ss, err := openMESnapshotStore(filepath.Join(dir, "snapshots"), "influxdb-meta", 2)
		if err != nil {
			return nil, err
		}
		f, err := newMEFSM()
		if err != nil {
			return nil, err
		}
		n.logs, stable, snaps, n.fsm = ls, ls, ss, f
		n.close = func() { ls.Close() }
	case "boltdb", "boltdb-swiftfsm":
		// The baseline: raft-boltdb + FileSnapshotStore + InfluxDB's Go FSM. "boltdb-swiftfsm" keeps the
		// same storage but applies with MetaFSM, to tell storage from state-machine cost in the bench.
		bs, err := raftboltdb.NewBoltStore(filepath.Join(dir, "raft.db"))
		if err != nil {
			return nil, err
		}
		ss, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, conf.Logger)
		if err != nil {
			return nil, err
		}
		n.logs, stable, snaps, n.fsm = bs, bs, ss, newGoFSM()
		if store == "boltdb-swiftfsm" {
			if n.fsm, err = newMEFSM(); err != nil {
				return nil, err
			}
		}
		n.close = func() { bs.Close() }
	default:
		return nil, fmt.Errorf("--store must be metaengine, boltdb or boltdb-swiftfsm, got %q", store)
	}
	addr, err := net.ResolveTCPAddr("tcp", bind)
	if err != nil {
		return nil, err
	}
	trans, err := raft.NewTCPTransportWithLogger(bind, addr, 3, 5*time.Second, conf.Logger)
	if err != nil {
		return nil, err
	}
	if bootstrap {
		exists, err := raft.HasExistingState(n.logs, stable, snaps)
		if err != nil {
			return nil, err
		}
		if !exists {
			var servers []raft.Server
			for _, p := range strings.Split(peers, ",") {
				kv := strings.SplitN(p, "=", 2)
				if len(kv) != 2 {
					return nil, fmt.Errorf("--peers entry %q is not id=addr", p)
				}
				servers = append(servers, raft.Server{ID: raft.ServerID(kv[0]), Address: raft.ServerAddress(kv[1])})
			}
			if err := raft.BootstrapCluster(conf, n.logs, stable, snaps, trans, raft.Configuration{Servers: servers}); err != nil {
				return nil, err
			}
		}
	}
	r, err := raft.NewRaft(conf, n.fsm, n.logs, stable, snaps, trans)
	if err != nil {
		return nil, err
	}
	n.raft = r
	return n, nil
}

// nodeStatus is what GET /status answers.
type nodeStatus struct {
	ID                string `json:"id"`
	State             string `json:"state"`
	Leader            string `json:"leader"`
	Applied           uint64 `json:"applied"`
	LastIndex         uint64 `json:"last_index"`
	LogFirst          uint64 `json:"log_first"`
	LogLast           uint64 `json:"log_last"`
	LastSnapshotIndex uint64 `json:"last_snapshot_index"`
	FSMIndex          uint64 `json:"fsm_index"`
}

// proposeResult is what POST /propose answers: how many commands (a prefix) were committed and
// applied, each one's result (null or InfluxDB's error) and its commit latency in microseconds.
type proposeResult struct {
	Acked     int       `json:"acked"`
	Results   []*string `json:"results"`
	LatencyUS []int64   `json:"latency_us"`
	Error     string    `json:"error,omitempty"`
}

func serveControl(n *node, addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/status", func(w http.ResponseWriter, req *http.Request) {
		first, _ := n.logs.FirstIndex()
		last, _ := n.logs.LastIndex()
		snap, _ := strconv.ParseUint(n.raft.Stats()["last_snapshot_index"], 10, 64)
		json.NewEncoder(w).Encode(nodeStatus{
			ID: n.id, State: n.raft.State().String(), Leader: string(n.raft.Leader()), Applied: n.raft.AppliedIndex(),
			LastIndex: n.raft.LastIndex(), LogFirst: first, LogLast: last, LastSnapshotIndex: snap,
			FSMIndex: n.fsm.AppliedIndex(),
		})
	})
	// POST /propose?from=K&concurrency=C, body: a command stream (uint32 LE length + meta.Command).
	// Command i is stamped with the conformance clock of stream position K+i. With C = 1 the commands
	// enter the log in stream order; with C > 1, C proposals are in flight at once (raft batches them)
	// and the order among them is the scheduler's.
	mux.HandleFunc("/propose", func(w http.ResponseWriter, req *http.Request) {
		from, _ := strconv.Atoi(req.URL.Query().Get("from"))
		conc, _ := strconv.Atoi(req.URL.Query().Get("concurrency"))
		if conc < 1 {
			conc = 1
		}
		body, err := ioutil.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		cmds, err := splitStream(body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if n.raft.State() != raft.Leader {
			http.Error(w, "not the leader", http.StatusConflict)
			return
		}
		json.NewEncoder(w).Encode(propose(n.raft, cmds, from, conc))
	})
	mux.HandleFunc("/barrier", func(w http.ResponseWriter, req *http.Request) {
		if err := n.raft.Barrier(10 * time.Second).Error(); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("/snapshot", func(w http.ResponseWriter, req *http.Request) {
		if err := n.raft.Snapshot().Error(); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("/metadb", func(w http.ResponseWriter, req *http.Request) {
		b, err := n.fsm.MetaDB()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(b)
	})
	// GET /commands: every command entry of the log, in index order, as a stream of uint32 LE length +
	// payload (the 8-byte clock stamp + meta.Command); header X-First-Index says where the log starts.
	mux.HandleFunc("/commands", func(w http.ResponseWriter, req *http.Request) {
		first, _ := n.logs.FirstIndex()
		last, _ := n.logs.LastIndex()
		var out []byte
		for i := first; i <= last && i > 0; i++ {
			var l raft.Log
			if err := n.logs.GetLog(i, &l); err != nil {
				http.Error(w, fmt.Sprintf("entry %d: %v", i, err), 500)
				return
			}
			if l.Type == raft.LogCommand {
				out = appendRecord(out, l.Data)
			}
		}
		w.Header().Set("X-First-Index", strconv.FormatUint(first, 10))
		w.Write(out)
	})
	srv := &http.Server{Addr: addr, Handler: mux}
	mux.HandleFunc("/shutdown", func(w http.ResponseWriter, req *http.Request) {
		n.raft.Shutdown().Error()
		n.close()
		w.Write([]byte("ok"))
		go func() { time.Sleep(50 * time.Millisecond); os.Exit(0) }()
	})
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		die("control server: %v", err)
	}
}

// propose applies the commands with `conc` in flight and waits for each to be applied.
func propose(r *raft.Raft, cmds [][]byte, from, conc int) proposeResult {
	res := proposeResult{Results: make([]*string, len(cmds)), LatencyUS: make([]int64, len(cmds))}
	ok := make([]bool, len(cmds))
	errs := make([]error, len(cmds))
	var wg sync.WaitGroup
	next := make(chan int)
	for c := 0; c < conc; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				f := r.Apply(stamp(cmds[i], from+i), 30*time.Second)
				if err := f.Error(); err != nil {
					errs[i] = err
					continue
				}
				res.LatencyUS[i] = time.Since(start).Microseconds()
				ok[i] = true
				if e, isErr := f.Response().(error); isErr && e != nil {
					s := e.Error()
					res.Results[i] = &s
				}
			}
		}()
	}
	for i := range cmds {
		next <- i
	}
	close(next)
	wg.Wait()
	for res.Acked < len(cmds) && ok[res.Acked] {
		res.Acked++
	}
	if res.Acked < len(cmds) {
		res.Error = fmt.Sprintf("command %d: %v", from+res.Acked, errs[res.Acked])
	}
	return res
}

// stamp is the leader-stamped payload: the conformance clock of stream position k (base + k seconds)
// as 8 bytes little-endian Unix nanoseconds, then the command.
func stamp(cmd []byte, k int) []byte {
	out := make([]byte, 8, 8+len(cmd))
	binary.LittleEndian.PutUint64(out, uint64((ClockBaseUnixSeconds+int64(k))*1e9))
	return append(out, cmd...)
}

// stampPosition is the stream position a stamp encodes.
func stampPosition(payload []byte) int {
	return int(int64(binary.LittleEndian.Uint64(payload[:8]))/1e9 - ClockBaseUnixSeconds)
}

// splitStream splits a command stream (uint32 LE length + bytes, repeated).
func splitStream(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("command stream: %d trailing bytes", len(b))
		}
		n := int(binary.LittleEndian.Uint32(b))
		if n > len(b)-4 {
			return nil, fmt.Errorf("command stream: record of %d bytes, %d left", n, len(b)-4)
		}
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out, nil
}

func appendRecord(out, rec []byte) []byte {
	var l [4]byte
	binary.LittleEndian.PutUint32(l[:], uint32(len(rec)))
	return append(append(out, l[:]...), rec...)
}

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "hashicorp-raft-host: "+format+"\n", a...)
	os.Exit(1)
}
