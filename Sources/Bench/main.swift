// Bench: `swift run -c release Bench` (see BenchCommand.swift for the workloads and flags).
BenchCommand.main()
