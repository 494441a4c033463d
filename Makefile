# MetaEngine: `make bench` runs the benchmark, `make test` the tests.
SWIFT ?= swift
APT_PACKAGES := liblz4-dev libxxhash-dev

.PHONY: deps build test bench bench-full fuzz clean

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

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# A short run of every workload (under two minutes).
bench: deps
	$(SWIFT) run -c release Bench --quick

# Every workload at its default size.
bench-full: deps
	$(SWIFT) run -c release Bench

clean:
	rm -rf .build
