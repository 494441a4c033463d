// `propose`: the command-line client. Sends a command stream file (the fixtures' *.commands format) to
// whichever of the given nodes leads, in stream order, and prints each command's result.
package main

import (
	"flag"
	"fmt"
	"io/ioutil"
	"net/http"
	"strings"
	"time"
)

func runPropose(args []string) int {
	fs := flag.NewFlagSet("propose", flag.ExitOnError)
	nodes := fs.String("nodes", "", "control addresses of the nodes: 127.0.0.1:Q,...")
	commands := fs.String("commands", "", "command stream file")
	from := fs.Int("from", 1, "stream position of the first command (its clock is base + position seconds)")
	fs.Parse(args)
	raw, err := ioutil.ReadFile(*commands)
	if err != nil {
		die("%v", err)
	}
	cmds, err := splitStream(raw)
	if err != nil {
		die("%s: %v", *commands, err)
	}
	c := &cluster{client: &http.Client{Timeout: 10 * time.Minute}}
	for i, addr := range strings.Split(*nodes, ",") {
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			die("node addresses must be on 127.0.0.1, got %q", addr)
		}
		c.nodes = append(c.nodes, &proc{id: fmt.Sprintf("node%d", i+1), httpAddr: addr})
	}
	var lastErr error
	for i := range c.nodes {
		res, err := c.proposeAt(i, cmds, *from, 1)
		if err != nil {
			lastErr = err
			continue
		}
		for k := 0; k < res.Acked; k++ {
			fmt.Printf("%d %s\n", *from+k, show(res.Results[k]))
		}
		if res.Acked < len(cmds) {
			fmt.Printf("%d of %d acknowledged: %s\n", res.Acked, len(cmds), res.Error)
			return 1
		}
		return 0
	}
	die("no node accepted the proposal: %v", lastErr)
	return 1
}
