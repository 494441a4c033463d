// `faults`: one three-node cluster, one generated stream, proposed in stream order in batches:
//  1. SIGKILL of the leader while a batch is in flight; the client finds the new leader, makes it
//     commit what it holds (a barrier), reads its log back and resubmits from the first position that
//     is not there (so every position is committed exactly once, in order);
//  2. restart of the killed node: it catches up from the log (it never compacts: it is restarted with a
//     snapshot threshold and trailing logs too large to reach, so its log keeps the whole history);
//  3. the third node is killed and wiped, the leader snapshots and compacts (low SnapshotThreshold and
//     TrailingLogs), and the node rejoins with an empty directory: it catches up by snapshot install.
//
// Then: every node's meta.db is byte-identical; every acknowledged position is in the committed log of
// the never-compacted node, whose command entries are exactly positions 1..N in order; and its meta.db
// equals `metactl influx apply` of those committed commands (Term and Index set aside).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

func runFaults(args []string) int {
	fs := flag.NewFlagSet("faults", flag.ExitOnError)
	store := fs.String("store", "metaengine", "metaengine or boltdb")
	work := fs.String("work", "", "scratch directory (required)")
	count := fs.Int("commands", 3000, "commands in the generated stream")
	batch := fs.Int("batch", 100, "commands per proposal request")
	fs.Parse(args)
	if *work == "" {
		die("--work is required")
	}
	start := time.Now()
	err := faults(*store, *work, *count, *batch)
	fmt.Printf("faults %s: %d commands in %.1fs\n", *store, *count, time.Since(start).Seconds())
	if err != nil {
		fmt.Printf("FAIL faults %s: %v\n", *store, err)
		fmt.Println("0 passed, 1 failed")
		return 1
	}
	os.RemoveAll(*work)
	fmt.Println("1 passed, 0 failed")
	return 0
}

// faultRun is the client's view: the stream and the positions it got acknowledged.
type faultRun struct {
	c     *cluster
	cmds  [][]byte
	acked map[int]bool
	batch int
}

func metactl() string {
	if p := os.Getenv("METACTL"); p != "" {
		return p
	}
	return "metactl"
}

func faults(store, work string, count, batch int) error {
	os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	streamPath := filepath.Join(work, "stream.commands")
	if out, err := exec.Command(metactl(), "influx", "generate", "--count", fmt.Sprint(count), "--out", streamPath).CombinedOutput(); err != nil {
		return fmt.Errorf("metactl influx generate: %v: %s", err, out)
	}
	raw, err := ioutil.ReadFile(streamPath)
	if err != nil {
		return err
	}
	cmds, err := splitStream(raw)
	if err != nil {
		return err
	}
	c := newCluster(store, filepath.Join(work, "nodes"), "--snapshot-threshold", "1000", "--trailing-logs", "200",
		"--snapshot-interval", "100ms")
	defer c.stop()
	run := &faultRun{c: c, cmds: cmds, acked: map[int]bool{}, batch: batch}
	if err := c.startAll(); err != nil {
		return err
	}

	// 1. Leader killed in the middle of a batch.
	killAt := count / 5
	next, err := run.proposeUntil(1, killAt-batch/2)
	if err != nil {
		return err
	}
	first, err := c.leader()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.proposeAt(first, cmds[next-1:next-1+batch], next, 1)
		done <- err
	}()
	time.Sleep(15 * time.Millisecond)
	c.kill(first)
	inFlight := <-done
	fmt.Printf("faults %s: killed leader %s during positions %d..%d (request: %v)\n", store, c.nodes[first].id, next, next+batch-1, inFlight)
	if next, err = run.resume(); err != nil {
		return err
	}
	fmt.Printf("faults %s: new leader holds positions 1..%d; resubmitting from %d\n", store, next-1, next)

	// 2. The killed node restarts and catches up from the log; it keeps its whole log from now on.
	if err := c.start(first, "--snapshot-threshold", "1000000000", "--trailing-logs", "1000000000"); err != nil {
		return err
	}
	if next, err = run.proposeUntil(next, 2*count/5); err != nil {
		return err
	}
	if _, err := c.settle(); err != nil {
		return err
	}

	// 3. A follower wiped; the leader compacts; the follower rejoins empty and gets a snapshot.
	l, err := c.leader()
	if err != nil {
		return err
	}
	wiped := 3 - l - first
	if wiped == l || wiped == first || wiped < 0 || wiped > 2 {
		return fmt.Errorf("the restarted node %s leads again; the wipe step needs it as a follower", c.nodes[first].id)
	}
	c.kill(wiped)
	os.RemoveAll(c.nodes[wiped].dir)
	if next, err = run.proposeUntil(next, 4*count/5); err != nil {
		return err
	}
	if l, err = c.leader(); err != nil {
		return err
	}
	if _, err := c.post(l, "/snapshot", nil); err != nil {
		return err
	}
	ls, err := c.status(l)
	if err != nil {
		return err
	}
	if ls.LogFirst <= 1 {
		return fmt.Errorf("leader %s did not compact its log (first index %d)", c.nodes[l].id, ls.LogFirst)
	}
	if err := c.start(wiped, "--bootstrap=false"); err != nil {
		return err
	}
	if next, err = run.proposeUntil(next, count); err != nil {
		return err
	}
	if _, err := c.settle(); err != nil {
		return err
	}
	ws, err := c.status(wiped)
	if err != nil {
		return err
	}
	if ws.LastSnapshotIndex == 0 || ws.LogFirst <= 1 {
		return fmt.Errorf("wiped node %s: snapshot index %d, log first index %d: no snapshot install", c.nodes[wiped].id, ws.LastSnapshotIndex, ws.LogFirst)
	}
	fmt.Printf("faults %s: wiped node %s rejoined by snapshot install (snapshot index %d, log from %d; leader's log from %d)\n",
		store, c.nodes[wiped].id, ws.LastSnapshotIndex, ws.LogFirst, ls.LogFirst)

	// Checks.
	db, err := c.metaDBs()
	if err != nil {
		return err
	}
	fs, err := c.status(first)
	if err != nil {
		return err
	}
	if fs.LogFirst != 1 {
		return fmt.Errorf("restarted node %s: log starts at %d, not 1 (it did not catch up from the log alone)", c.nodes[first].id, fs.LogFirst)
	}
	positions, entries, err := c.committedPositions(first)
	if err != nil {
		return err
	}
	for i, p := range positions {
		if p != i+1 {
			return fmt.Errorf("committed command %d carries position %d", i+1, p)
		}
	}
	if len(positions) != count {
		return fmt.Errorf("%d commands committed, the stream has %d", len(positions), count)
	}
	for p := range run.acked {
		if p < 1 || p > len(positions) {
			return fmt.Errorf("acknowledged position %d is not in the committed log", p)
		}
	}
	var replay []byte
	for i, e := range entries {
		if !bytes.Equal(e[8:], cmds[i]) {
			return fmt.Errorf("committed command %d differs from the stream's", i+1)
		}
		replay = appendRecord(replay, e[8:])
	}
	replayPath := filepath.Join(work, "committed.commands")
	replayDB := filepath.Join(work, "committed.meta.db")
	if err := ioutil.WriteFile(replayPath, replay, 0o644); err != nil {
		return err
	}
	if out, err := exec.Command(metactl(), "influx", "apply", "--commands", replayPath, "--out", replayDB).CombinedOutput(); err != nil {
		return fmt.Errorf("metactl influx apply: %v: %s", err, out)
	}
	want, err := ioutil.ReadFile(replayDB)
	if err != nil {
		return err
	}
	a, err := withoutTermIndex(db)
	if err != nil {
		return err
	}
	b, err := withoutTermIndex(want)
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("meta.db (%d bytes) differs from metactl influx apply of the committed log (%d bytes)", len(db), len(want))
	}
	fmt.Printf("faults %s: %d acknowledged, %d committed once each in order; meta.db (%d bytes) identical on 3 nodes and equal to metactl influx apply\n",
		store, len(run.acked), len(positions), len(db))
	return nil
}

// proposeUntil proposes positions [from, to] in batches to the leader and returns the next position.
// A failed request (leader lost) is resumed with `resume`.
func (r *faultRun) proposeUntil(from, to int) (int, error) {
	next := from
	for next <= to {
		end := next + r.batch - 1
		if end > to {
			end = to
		}
		l, err := r.c.leader()
		if err != nil {
			return next, err
		}
		res, err := r.c.proposeAt(l, r.cmds[next-1:end], next, 1)
		if err == nil {
			for k := 0; k < res.Acked; k++ {
				r.acked[next+k] = true
			}
		}
		if err != nil || res.Acked < end-next+1 {
			if next, err = r.resume(); err != nil {
				return next, err
			}
			continue
		}
		next = end + 1
	}
	return next, nil
}

// resume makes the current leader commit everything it holds, reads its log back and returns the
// first stream position it does not hold. Its command entries must carry consecutive positions ending
// at some m (starting at 1 unless the log was compacted), and m must cover every acknowledged position.
func (r *faultRun) resume() (int, error) {
	l, err := r.c.settle()
	if err != nil {
		return 0, err
	}
	positions, _, err := r.c.committedPositions(l)
	if err != nil {
		return 0, err
	}
	if len(positions) == 0 {
		return 0, fmt.Errorf("leader %s holds no command entries to resume from", r.c.nodes[l].id)
	}
	for i, p := range positions {
		if p != positions[0]+i {
			return 0, fmt.Errorf("leader %s: command entry %d carries position %d after %d", r.c.nodes[l].id, i+1, p, positions[0]+i-1)
		}
	}
	m := positions[len(positions)-1]
	for p := range r.acked {
		if p > m {
			return 0, fmt.Errorf("acknowledged position %d is missing from the new leader's log (it holds up to %d)", p, m)
		}
	}
	return m + 1, nil
}
