package main
func runFaults(args []string) int { return 0 }
func runBench(args []string) int { return 0 }
