# The two entry points of the README. Each installs what it needs (scripts/setup-deps.sh).
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build test demo bench clean

all: build

deps:
	@scripts/setup-deps.sh

build: deps
	@cmake -S . -B build $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j$(JOBS)

# Unit, scenario, crash and corruption tests; then the same tests under ASan/UBSan;
# then every fuzz target briefly.
test: build
	@scripts/run-tests.sh

demo: build
	@scripts/demo.sh

bench: build
	@build/bin/ckpt-bench persist --quick
	@build/bin/ckpt-bench dedup --quick

clean:
	rm -rf build build-asan build-fuzz
