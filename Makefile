# Glimpse: `make demo` and `make test` are the whole set-up on Debian 12 with Swift 6.3.
# Both first install the system libraries Glimpse links (OpenBLAS, LAPACKE, Cairo, libpng,
# libjpeg, bzip2, zlib) when any is missing.

SYSTEM_PACKAGES := libopenblas-dev liblapacke-dev libcairo2-dev libpng-dev libjpeg-dev \
                   libbz2-dev zlib1g-dev pkg-config fonts-dejavu-core
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Tests are checked with one BLAS thread, so results do not depend on the machine's cores, and
# keep explain's segmentation cache inside .build rather than the user's ~/.cache.
TEST_ENV := OPENBLAS_NUM_THREADS=1 XDG_CACHE_HOME=$(CURDIR)/.build/test-cache

.PHONY: all deps build release demo test bench bench-loaded bench-memory fuzz lint clean

all: build

deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:" $$missing; \
	  $(SUDO) apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

build: deps
	swift build

release: deps
	swift build -c release

demo: release
	.build/release/glimpse demo

# The fuzzer forks its runs: one BLAS and one Glimpse thread, so a child owns no other thread.
FUZZ_ENV := OPENBLAS_NUM_THREADS=1 GLIMPSE_THREADS=1
# make test replays every saved crash and fuzzes each reader this long; make fuzz runs FUZZ_RUNS.
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_RUNS ?= 1000000
FUZZ_TARGETS := csv csv-gz csv-bz2 labels idx png jpeg model checkpoint values split

test: deps
	$(TEST_ENV) swift test --disable-xctest
	swift build
	$(TEST_ENV) bash .ci/kill-resume .build/debug/glimpse
	$(FUZZ_ENV) .build/debug/glimpse-fuzz smoke --seconds $(FUZZ_SMOKE_SECONDS)

# `swift build -c release` builds every product: glimpse, glimpse-bench (the timed stages) and
# glimpse-fuzz.
bench: release
	bash .ci/bench

# The same with one CPU-bound process competing for the cores the whole time.
bench-loaded: release
	COMPETING=1 bash .ci/bench

# Peak memory and wall time of info, train, predict, embed and explain-batch on 10 000 colour
# 224×224 images generated from samples/ (COUNT=… for fewer; several minutes; needs numpy).
bench-memory: release
	bash .ci/bench-memory

fuzz: deps
	swift build -c release --product glimpse-fuzz
	@for t in $(FUZZ_TARGETS); do \
	  $(FUZZ_ENV) .build/release/glimpse-fuzz run $$t --runs $(FUZZ_RUNS) || exit 1; \
	done

lint:
	swift format lint --strict -r Sources Tests

clean:
	rm -rf .build output/*.png
