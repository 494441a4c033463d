// `conformance`: for every fixture stream, a fresh three-node cluster; the leader proposes every
// command in stream order, stamped with the conformance clock of its position; each result must equal
// the fixture's expected error, and every node's meta.db must be byte-identical and equal to the
// fixture's final state once Term and Index are set aside.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func runConformance(args []string) int {
	fs := flag.NewFlagSet("conformance", flag.ExitOnError)
	store := fs.String("store", "metaengine", "metaengine or boltdb")
	fixtures := fs.String("fixtures", "Fixtures/influxdb", "directory of *.commands fixtures")
	work := fs.String("work", "", "scratch directory (required; removed case by case)")
	fs.Parse(args)
	if *work == "" {
		die("--work is required")
	}
	streams, _ := filepath.Glob(filepath.Join(*fixtures, "*.commands"))
	sort.Strings(streams)
	if len(streams) == 0 {
		die("no *.commands in %s", *fixtures)
	}
	start := time.Now()
	passed, failed, commands := 0, 0, 0
	for _, stream := range streams {
		name := strings.TrimSuffix(filepath.Base(stream), ".commands")
		n, err := conformanceCase(*store, *fixtures, name, filepath.Join(*work, name))
		commands += n
		if err != nil {
			failed++
			fmt.Printf("FAIL %s %s: %v\n", *store, name, err)
		} else {
			passed++
		}
	}
	fmt.Printf("conformance %s: %d streams (%d commands) in %.1fs\n", *store, len(streams), commands, time.Since(start).Seconds())
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

func readFixture(dir, name string, suffixes ...string) ([]byte, error) {
	var err error
	for _, s := range suffixes {
		var b []byte
		if b, err = ioutil.ReadFile(filepath.Join(dir, name+s)); err == nil {
			return b, nil
		}
	}
	return nil, err
}

func conformanceCase(store, fixtures, name, work string) (int, error) {
	raw, err := ioutil.ReadFile(filepath.Join(fixtures, name+".commands"))
	if err != nil {
		return 0, err
	}
	cmds, err := splitStream(raw)
	if err != nil {
		return 0, err
	}
	expectJSON, err := readFixture(fixtures, name, ".expect.json")
	if err != nil {
		return len(cmds), err
	}
	var expect []*string
	if err := json.Unmarshal(expectJSON, &expect); err != nil {
		return len(cmds), fmt.Errorf("expect.json: %v", err)
	}
	want, err := readFixture(fixtures, name, ".data.pb", ".db")
	if err != nil {
		return len(cmds), err
	}
	os.RemoveAll(work)
	c := newCluster(store, work)
	failed := true
	defer func() {
		c.stop()
		if !failed { // a failed case keeps its nodes' logs, which its error message points to
			os.RemoveAll(work)
		}
	}()
	if err := c.startAll(); err != nil {
		return len(cmds), err
	}
	l, err := c.leader()
	if err != nil {
		return len(cmds), err
	}
	res, err := c.proposeAt(l, cmds, 1, 1)
	if err != nil {
		return len(cmds), err
	}
	if res.Acked != len(cmds) || len(expect) != len(cmds) {
		return len(cmds), fmt.Errorf("%d of %d commands acknowledged (%s); expect.json has %d", res.Acked, len(cmds), res.Error, len(expect))
	}
	for i := range cmds {
		got, exp := res.Results[i], expect[i]
		if (got == nil) != (exp == nil) || (got != nil && *got != *exp) {
			return len(cmds), fmt.Errorf("command %d: result %s, expected %s", i+1, show(got), show(exp))
		}
	}
	if _, err := c.settle(); err != nil {
		return len(cmds), err
	}
	db, err := c.metaDBs()
	if err != nil {
		return len(cmds), err
	}
	a, err := withoutTermIndex(db)
	if err != nil {
		return len(cmds), fmt.Errorf("node meta.db: %v", err)
	}
	b, err := withoutTermIndex(want)
	if err != nil {
		return len(cmds), fmt.Errorf("fixture: %v", err)
	}
	if !bytes.Equal(a, b) {
		return len(cmds), fmt.Errorf("meta.db (%d bytes) differs from the fixture (%d bytes) beyond Term/Index", len(db), len(want))
	}
	failed = false
	return len(cmds), nil
}

func show(s *string) string {
	if s == nil {
		return "null"
	}
	return fmt.Sprintf("%q", *s)
}
