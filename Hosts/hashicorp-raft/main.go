// hashicorp-raft-host: InfluxDB's meta store on hashicorp/raft 1.1.2, with MetaEngine (through the C
// ABI) or raft-boltdb + FileSnapshotStore + InfluxDB's Go FSM underneath. Built and run by ./run.
//
//	node         one raft node process (flags in node.go)
//	propose      send a command stream file to the leader among the given nodes, print the results
//	conformance  three-node clusters replay every fixture stream; results and meta.db checked
//	faults       leader SIGKILL mid-stream, restart, wipe + snapshot-install rejoin; state checked
//	bench        commands/s and p50/p99 commit latency of both stores, interleaved rounds
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: hashicorp-raft-host node|propose|conformance|faults|bench [flags]")
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "node":
		runNode(args)
	case "propose":
		os.Exit(runPropose(args))
	case "conformance":
		os.Exit(runConformance(args))
	case "faults":
		os.Exit(runFaults(args))
	case "bench":
		os.Exit(runBench(args))
	default:
		fmt.Fprintf(os.Stderr, "unknown subcommand %q\n", os.Args[1])
		os.Exit(2)
	}
}
