// Bench: `swift run -c release Bench`. Filled in by the Bench issue.
print("Bench: no workloads yet")
