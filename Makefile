# Front door. `make demo` and `make test` work on a fresh Debian 12 machine:
# they install missing packages, build, then run.
PRESET ?= release
BUILD := build/$(PRESET)
BIN := $(BUILD)/scratchbird

.PHONY: all deps configure build test demo format clean sim-soak bench

all: build

deps:
	@bash scripts/install-deps

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET)

test: build
	@ctest --preset $(PRESET) --timeout 600

demo: build
	@$(BIN) demo

sim-soak: build
	@$(BUILD)/tests/sim/sb_sim --seeds $(or $(SEEDS),1000)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf build
