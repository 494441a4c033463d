// MetaEngine: log + snapshots + state machine. Filled in by the MetaEngine issue.
