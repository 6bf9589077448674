# Front door. `make demo` and `make test` work on a fresh Debian 12 machine:
# they install missing packages, build, then run.
PRESET ?= release
BUILD := build/$(PRESET)
BIN := $(BUILD)/scratchbird

.PHONY: all deps configure build test demo format clean sim-soak bench fuzz-sql

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
	@$(BIN) demo --nodes 3

sim-soak: build
	@$(BUILD)/tests/sim/sb_sim --seeds $(or $(SEEDS),1000)

# SQL fuzzing (tests/sql/fuzz_sql.cc) until Ctrl-C, or bounded:
# make fuzz-sql SECONDS=600 | QUERIES=100000 [FUZZ_ARGS='--seed 7 --keep-going --out DIR']
fuzz-sql: configure
	@cmake --build --preset $(PRESET) --target sb_fuzz_sql
	@$(BUILD)/tests/sql/sb_fuzz_sql $(if $(SECONDS),--seconds $(SECONDS)) \
		$(if $(QUERIES),--queries $(QUERIES)) $(FUZZ_ARGS)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf build
