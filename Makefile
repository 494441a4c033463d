# MetaEngine: `make bench` runs the benchmark, `make test` the tests.
SWIFT ?= swift
APT_PACKAGES := liblz4-dev libxxhash-dev

.PHONY: deps build test c-test host-test crash-test tsan bench-raft bench bench-full fuzz clean

# Where swift build puts products, and the Swift runtime's libraries (for programs linking MetaEngineC).
BIN_DIR = $(shell $(SWIFT) build --show-bin-path)
SWIFT_RUNTIME = $(shell $(SWIFT) -print-target-info | sed -n '/"runtimeLibraryPaths"/{n;s/[ ",]//g;p;}')
CC ?= cc

# Installs the Debian -dev packages the C modules link against, when they are missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get install -y -q $$missing || { $$SUDO apt-get update -q && $$SUDO apt-get install -y -q $$missing; }; \
	fi

build: deps
	$(SWIFT) build

# Every test is XCTest; Swift Testing is switched off so the run ends on XCTest's own count.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing
	$(MAKE) c-test
	$(MAKE) host-test

# The plain C test of the C ABI (every function of metaengine.h), against the built libMetaEngineC.
c-test:
	$(SWIFT) build --product MetaEngineC
	mkdir -p .build/c-test
	$(CC) -std=c99 -Wall -Wextra -Werror -I Sources/CMetaEngine/include Tests/MetaEngineCTests/*.c \
	  -L $(BIN_DIR) -lMetaEngineC -o .build/c-test/metaengine_test
	rm -rf .build/c-test/scratch && mkdir -p .build/c-test/scratch
	LD_LIBRARY_PATH=$(BIN_DIR):$(SWIFT_RUNTIME) .build/c-test/metaengine_test .build/c-test/scratch Fixtures/influxdb Fixtures/etcd
	rm -rf .build/c-test/scratch

# InfluxDB's meta store on hashicorp/raft (Hosts/hashicorp-raft, Go over the C ABI): three node processes on
# 127.0.0.1 replay every fixture stream, then the fault test (leader SIGKILL, restart, wipe + snapshot
# install), on MetaEngine and on the raft-boltdb baseline. Installs the Debian Go packages it needs.
HOST_RUN := Hosts/hashicorp-raft/run
HOST_WORK := .build/host-test
host-test: deps
	rm -rf $(HOST_WORK)
	$(HOST_RUN) conformance --store metaengine --fixtures Fixtures/influxdb --work $(HOST_WORK)/conformance-metaengine
	$(HOST_RUN) conformance --store boltdb --fixtures Fixtures/influxdb --work $(HOST_WORK)/conformance-boltdb
	$(HOST_RUN) faults --store metaengine --work $(HOST_WORK)/faults-metaengine
	$(HOST_RUN) faults --store boltdb --work $(HOST_WORK)/faults-boltdb

# The raft-influx benchmark: both stores, 100,000 generated commands, interleaved rounds (release build).
BENCH_RAFT_ARGS ?=
bench-raft: deps
	HOST_SWIFT_CONFIG=release $(HOST_RUN) bench --work .build/bench-raft $(BENCH_RAFT_ARGS)

# The SIGKILL test (metactl log append killed at random moments, every durability mode in turn) with
# ROUNDS rounds; `make test` runs it with 42.
ROUNDS ?= 1000
crash-test: deps
	$(SWIFT) build --build-tests
	METALOG_CRASH_ROUNDS=$(ROUNDS) $(SWIFT) test --skip-build --disable-swift-testing \
	  --filter 'LogCrashTests.testSIGKILLDuringSyncedAppendsLosesNoAcknowledgedEntry'

# Thread sanitizer over MetaLog's concurrent tests (readers with a writer, group commit with threads and
# with a thousand async proposers, the 8-writer power-loss scenario), in its own scratch path.
TSAN_TESTS := MetaLogTests.ConcurrencyTests|MetaLogTests.ScanTests/testScanWhileAnotherThreadAppendsAndTruncates|MetaLogTests.RaftStorageTests/testAppendAsync|MetaLogTests.PowerLossTests/testGroupCommit|MetaLogTests.FaultInjectionTests/testFailedFsyncInGroupCommit|MetaEngineTests.EngineBasicTests|MetaEngineTests.EngineSnapshotTests|MetaEngineTests.SnapshotConsistencyTests|MetaEngineTests.PrimaryBackupTests|MetaEngineTests.ReplicaSimulationTests/testASeedReplaysExactly|MetaEngineTests.ProposeAndWaitTests|MetaEngineTests.ThreadStartTests|MetaEngineTests.EngineMetricsTests|MetaEngineTests.InlineApplyTests
tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --disable-swift-testing --filter '$(TSAN_TESTS)'

# A short run of every workload (under two minutes).
bench: deps
	$(SWIFT) run -c release Bench --quick

# Every workload at its default size.
bench-full: deps
	$(SWIFT) run -c release Bench

# libFuzzer over the snapshot reader (seeded from Fixtures/snapshots), MetaFSM's decoders (meta.db files,
# Data fixtures and single commands split from *.commands), MetaLog's segment reading (small segments
# LogFuzz writes itself) and MetaKV's codec + apply + snapshot (etcd fixture records), FUZZ_SECONDS each
# (default 60).
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -Xswiftc -sanitize=fuzzer,address -Xswiftc -DSNAPSHOT_FUZZ
FUZZ_RUN := -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1
fuzz: deps
	$(SWIFT) build -c release --scratch-path .build-fuzz --product SnapshotFuzz $(FUZZ_FLAGS)
	$(SWIFT) build -c release --scratch-path .build-fuzz --product InfluxFuzz $(FUZZ_FLAGS)
	$(SWIFT) build -c release --scratch-path .build-fuzz --product LogFuzz $(FUZZ_FLAGS)
	$(SWIFT) build -c release --scratch-path .build-fuzz --product KVFuzz $(FUZZ_FLAGS)
	mkdir -p fuzz-corpus/snapshot fuzz-corpus/influx fuzz-corpus/log fuzz-corpus/kv
	cp Fixtures/snapshots/*.msnap fuzz-corpus/snapshot/
	.build-fuzz/release/SnapshotFuzz fuzz-corpus/snapshot $(FUZZ_RUN)
	cp Fixtures/influxdb/*.data.pb Fixtures/influxdb/meta-0*.db fuzz-corpus/influx/
	.build-fuzz/release/InfluxFuzz --split-commands fuzz-corpus/influx Fixtures/influxdb/*.commands
	.build-fuzz/release/InfluxFuzz fuzz-corpus/influx $(FUZZ_RUN)
	.build-fuzz/release/LogFuzz --make-corpus fuzz-corpus/log-seeds
	.build-fuzz/release/LogFuzz fuzz-corpus/log fuzz-corpus/log-seeds $(FUZZ_RUN)
	.build-fuzz/release/KVFuzz --split-commands fuzz-corpus/kv Fixtures/etcd/rules-01.commands Fixtures/etcd/case-0*.commands
	.build-fuzz/release/KVFuzz fuzz-corpus/kv $(FUZZ_RUN)

clean:
	rm -rf .build .build-tsan
