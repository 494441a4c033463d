// Three node processes on 127.0.0.1 driven over their control API: start, SIGKILL, restart, wipe,
// find the leader, propose with resubmission after a failover, wait until every node has applied.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

type proc struct {
	id, raftAddr, httpAddr, dir string
	cmd                         *exec.Cmd
}

type cluster struct {
	store, work string
	nodes       []*proc
	args        []string // extra node flags
	client      *http.Client
}

// freeAddrs is n distinct loopback addresses with ports the kernel just handed out: every listener stays
// open until all n are picked, so two nodes never get the same port.
func freeAddrs(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			die("no free port: %v", err)
		}
		defer l.Close()
		out = append(out, l.Addr().String())
	}
	return out
}

// pickAddrs gives every node a fresh raft and control address, all distinct.
func (c *cluster) pickAddrs() {
	a := freeAddrs(2 * len(c.nodes))
	for i, p := range c.nodes {
		p.raftAddr, p.httpAddr = a[2*i], a[2*i+1]
	}
}

func newCluster(store, work string, args ...string) *cluster {
	c := &cluster{store: store, work: work, args: args, client: &http.Client{Timeout: 10 * time.Minute}}
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("n%d", i)
		c.nodes = append(c.nodes, &proc{id: id, dir: filepath.Join(work, id)})
	}
	c.pickAddrs()
	return c
}

func (c *cluster) peers() string {
	var s []string
	for _, p := range c.nodes {
		s = append(s, p.id+"="+p.raftAddr)
	}
	return strings.Join(s, ",")
}

// start launches node i (bootstrapping from the peer list if it has no state) with extra flags.
func (c *cluster) start(i int, extra ...string) error {
	p := c.nodes[i]
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := append([]string{"node", "--store", c.store, "--id", p.id, "--dir", p.dir, "--raft", p.raftAddr,
		"--http", p.httpAddr, "--peers", c.peers(), "--bootstrap"}, c.args...)
	args = append(args, extra...)
	if err := os.MkdirAll(c.work, 0o755); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(c.work, p.id+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	p.cmd = exec.Command(self, args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		// Only this node's own answer counts: a process that took its port first must not pass for it.
		if s, err := c.status(i); err == nil && s.ID == p.id {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("node %s did not answer on %s (see %s.log)", p.id, p.httpAddr, p.id)
}

// startAll starts a fresh cluster (no node has state yet). A picked port is free only when it is picked:
// another socket (an outgoing connection's ephemeral port) can take it before the node binds it, and the
// node then exits. So a failed start stops every node, removes their directories, picks new addresses for
// all of them (the raft addresses are in every node's bootstrap configuration) and tries again, 3 times
// at most.
func (c *cluster) startAll(extra ...string) error {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if err = c.startEach(extra...); err == nil {
			return nil
		}
		c.stop()
		for _, p := range c.nodes {
			os.RemoveAll(p.dir)
		}
		c.pickAddrs()
		fmt.Fprintf(os.Stderr, "start attempt %d failed (%v); new ports\n", attempt, err)
	}
	return err
}

func (c *cluster) startEach(extra ...string) error {
	for i := range c.nodes {
		if err := c.start(i, extra...); err != nil {
			return err
		}
	}
	return nil
}

// kill sends SIGKILL to node i and reaps it.
func (c *cluster) kill(i int) {
	p := c.nodes[i]
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
	p.cmd = nil
}

func (c *cluster) stop() {
	for i := range c.nodes {
		c.kill(i)
	}
}

func (c *cluster) get(i int, path string) ([]byte, error) {
	resp, err := c.client.Get("http://" + c.nodes[i].httpAddr + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := ioutil.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("%s on %s: %s: %s", path, c.nodes[i].id, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, err
}

func (c *cluster) post(i int, path string, body []byte) ([]byte, error) {
	resp, err := c.client.Post("http://"+c.nodes[i].httpAddr+path, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := ioutil.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("%s on %s: %s: %s", path, c.nodes[i].id, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, err
}

func (c *cluster) status(i int) (nodeStatus, error) {
	var s nodeStatus
	if c.nodes[i].cmd == nil {
		return s, fmt.Errorf("node %s is down", c.nodes[i].id)
	}
	cl := &http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get("http://" + c.nodes[i].httpAddr + "/status")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&s)
	return s, err
}

// leader waits for a live node that says it leads.
func (c *cluster) leader() (int, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for i := range c.nodes {
			if s, err := c.status(i); err == nil && s.State == "Leader" {
				return i, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return -1, fmt.Errorf("no leader within 30s")
}

// waitApplied waits until every live node has applied at least index.
func (c *cluster) waitApplied(index uint64) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		done := true
		for i := range c.nodes {
			if c.nodes[i].cmd == nil {
				continue
			}
			if s, err := c.status(i); err != nil || s.Applied < index {
				done = false
			}
		}
		if done {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("nodes did not apply index %d within 60s", index)
}

// settle makes the leader commit and apply everything it holds (a barrier returns once the leader's
// FSM has applied all before it), then waits until every live node's FSM has applied the same last
// command entry.
func (c *cluster) settle() (int, error) {
	l, err := c.leader()
	if err != nil {
		return -1, err
	}
	if _, err := c.post(l, "/barrier", nil); err != nil {
		return -1, err
	}
	s, err := c.status(l)
	if err != nil {
		return -1, err
	}
	if err := c.waitApplied(s.LastIndex); err != nil {
		return l, err
	}
	return l, c.waitFSM(s.FSMIndex)
}

// waitFSM waits until every live node's FSM has applied the command entry at index.
func (c *cluster) waitFSM(index uint64) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		done := true
		for i := range c.nodes {
			if c.nodes[i].cmd == nil {
				continue
			}
			if s, err := c.status(i); err != nil || s.FSMIndex < index {
				done = false
			}
		}
		if done {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("nodes' state machines did not reach index %d within 5 minutes", index)
}

// proposeAt sends commands [from, from+len) to node i; the answer says how many were acknowledged.
func (c *cluster) proposeAt(i int, cmds [][]byte, from, conc int) (proposeResult, error) {
	var body []byte
	for _, cmd := range cmds {
		body = appendRecord(body, cmd)
	}
	var res proposeResult
	b, err := c.post(i, fmt.Sprintf("/propose?from=%d&concurrency=%d", from, conc), body)
	if err != nil {
		return res, err
	}
	err = json.Unmarshal(b, &res)
	return res, err
}

// committedPositions reads node i's log back: the stream position of every command entry, in order,
// and the entries themselves.
func (c *cluster) committedPositions(i int) ([]int, [][]byte, error) {
	b, err := c.get(i, "/commands")
	if err != nil {
		return nil, nil, err
	}
	recs, err := splitStream(b)
	if err != nil {
		return nil, nil, err
	}
	pos := make([]int, len(recs))
	for k, r := range recs {
		if len(r) < 8 {
			return nil, nil, fmt.Errorf("command entry %d has no clock stamp", k)
		}
		pos[k] = stampPosition(r)
	}
	return pos, recs, nil
}

// metaDBs fetches every live node's meta.db; an error unless they are byte-identical.
func (c *cluster) metaDBs() ([]byte, error) {
	var first []byte
	var firstID string
	for i, p := range c.nodes {
		if p.cmd == nil {
			continue
		}
		b, err := c.get(i, "/metadb")
		if err != nil {
			return nil, err
		}
		if first == nil {
			first, firstID = b, p.id
		} else if !bytes.Equal(first, b) {
			return nil, fmt.Errorf("meta.db of %s (%d bytes) differs from %s's (%d bytes)", p.id, len(b), firstID, len(first))
		}
	}
	return first, nil
}

// percentile of sorted values (nearest rank).
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	k := int(p*float64(len(sorted))+0.5) - 1
	if k < 0 {
		k = 0
	}
	if k >= len(sorted) {
		k = len(sorted) - 1
	}
	return sorted[k]
}

func sortInt64(v []int64) { sort.Slice(v, func(i, j int) bool { return v[i] < v[j] }) }
