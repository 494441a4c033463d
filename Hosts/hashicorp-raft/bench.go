// `bench` (raft-influx): commands/s and p50/p99 commit latency at the leader of a three-node loopback
// cluster, for each store, on the same generated stream (`metactl influx generate`), interleaved rounds
// (round 1: metaengine then boltdb; round 2 the other way round; ...). Latency is from raft.Apply to
// the future's answer (committed on a quorum and applied by the leader's FSM). With --concurrency C,
// C proposals are in flight at once so raft can batch them (hashicorp/raft 1.1.2 batches only what is
// queued); their order in the log is then the scheduler's, so the final state can differ between runs.
package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

type benchResult struct {
	Store       string  `json:"store"`
	Round       int     `json:"round"`
	Commands    int     `json:"commands"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"commands_per_s"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	Rejected    int     `json:"rejected"`
	MetaDB      string  `json:"metadb_sha256"`
	Identical   bool    `json:"identical_on_all_nodes"`
}

func runBench(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	work := fs.String("work", "", "scratch directory (required)")
	stores := fs.String("stores", "metaengine,boltdb,boltdb-swiftfsm", "stores to measure")
	rounds := fs.Int("rounds", 2, "interleaved rounds")
	count := fs.Int("commands", 100000, "commands in the generated stream")
	conc := fs.Int("concurrency", 64, "proposals in flight")
	fs.Parse(args)
	if *work == "" {
		die("--work is required")
	}
	os.RemoveAll(*work)
	os.MkdirAll(*work, 0o755)
	streamPath := filepath.Join(*work, "stream.commands")
	if out, err := exec.Command(metactl(), "influx", "generate", "--count", fmt.Sprint(*count), "--out", streamPath).CombinedOutput(); err != nil {
		die("metactl influx generate: %v: %s", err, out)
	}
	raw, err := ioutil.ReadFile(streamPath)
	if err != nil {
		die("%v", err)
	}
	cmds, err := splitStream(raw)
	if err != nil {
		die("%v", err)
	}
	host, _ := os.Hostname()
	fmt.Printf("raft-influx: %d commands, concurrency %d, %d rounds, %s, %d CPUs, %s\n", len(cmds), *conc, *rounds,
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), host)
	names := strings.Split(*stores, ",")
	var all []benchResult
	failed := 0
	for r := 1; r <= *rounds; r++ {
		order := append([]string(nil), names...)
		if r%2 == 0 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, store := range order {
			res, err := benchOnce(store, filepath.Join(*work, fmt.Sprintf("%s-%d", store, r)), cmds, *conc)
			if err != nil {
				fmt.Printf("FAIL %s round %d: %v\n", store, r, err)
				failed++
				continue
			}
			res.Round = r
			all = append(all, res)
			b, _ := json.Marshal(res)
			fmt.Println(string(b))
		}
	}
	fmt.Println("| store | round | commands/s | p50 ms | p99 ms | rejected | meta.db identical on 3 nodes |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, x := range all {
		fmt.Printf("| %s | %d | %.0f | %.2f | %.2f | %d | %v |\n", x.Store, x.Round, x.PerSecond, x.P50ms, x.P99ms, x.Rejected, x.Identical)
	}
	if failed > 0 {
		return 1
	}
	os.RemoveAll(*work)
	return 0
}

func benchOnce(store, work string, cmds [][]byte, conc int) (benchResult, error) {
	res := benchResult{Store: store, Commands: len(cmds), Concurrency: conc}
	// hashicorp's default timeouts: the busy Go FSM must not cost the leader its lease.
	c := newCluster(store, work, "--election-timeout", "1s")
	c.client.Timeout = time.Hour
	defer func() {
		c.stop()
		os.RemoveAll(work)
	}()
	if err := c.startAll(); err != nil {
		return res, err
	}
	l, err := c.leader()
	if err != nil {
		return res, err
	}
	start := time.Now()
	pr, err := c.proposeAt(l, cmds, 1, conc)
	elapsed := time.Since(start)
	if err != nil {
		return res, err
	}
	if pr.Acked != len(cmds) {
		return res, fmt.Errorf("%d of %d acknowledged: %s", pr.Acked, len(cmds), pr.Error)
	}
	for _, r := range pr.Results {
		if r != nil {
			res.Rejected++
		}
	}
	lat := append([]int64(nil), pr.LatencyUS...)
	sortInt64(lat)
	res.Seconds = elapsed.Seconds()
	res.PerSecond = float64(len(cmds)) / elapsed.Seconds()
	res.P50ms = float64(percentile(lat, 0.50)) / 1000
	res.P99ms = float64(percentile(lat, 0.99)) / 1000
	if _, err := c.settle(); err != nil {
		return res, err
	}
	db, err := c.metaDBs()
	if err != nil {
		// Still a measurement: report it, marked, rather than drop it.
		fmt.Printf("%s: %v\n", store, err)
		return res, nil
	}
	stripped, err := withoutTermIndex(db)
	if err != nil {
		return res, err
	}
	res.Identical = true
	res.MetaDB = fmt.Sprintf("%x", sha256.Sum256(stripped))[:16]
	return res, nil
}
