# driftwatch: two commands set everything up on a fresh machine.
#   make demo   install what is missing, build, and run the demo
#   make test   the same setup, then fmt, clippy and the whole test suite
#   make bench  the benchmark (driftwatch side by side with pg_dump)
#   make soak   incremental live capture against 500 random DDL steps
#               (SEED=n repeats a run; the seed is printed)

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: setup tools postgres build demo test bench soak clean-demo

setup:
	@bash scripts/setup.sh

# The real migration tools the history tests run (sqlx-cli, dbmate,
# node-pg-migrate, knex, alembic, Django), cached outside the repo.
tools:
	@bash scripts/tools.sh install

# Server binaries of PostgreSQL 13, 14, 16, 17 and 18 (15 is Debian's) for
# the version matrix (tests/majors.rs), and of 12 for the test of its
# refusal, cached outside the repo.
postgres:
	@bash scripts/postgres.sh install

build: setup
	$(CARGO) build --release --bin driftwatch

demo: setup
	$(CARGO) build --release --bin driftwatch --example demo
	DRIFTWATCH_BIN=$(CURDIR)/target/release/driftwatch $(CURDIR)/target/release/examples/demo

test: setup tools postgres
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	scripts/module-map >/dev/null || scripts/module-map
	$(CARGO) test --lib --bins --tests

bench: setup
	$(CARGO) build --release --bin driftwatch
	DRIFTWATCH_BIN=$(CURDIR)/target/release/driftwatch $(CARGO) bench --bench bench

# Seeded random DDL, an incremental capture after each step, a full one
# compared every 25 (benches/soak); SEED= from the environment, else the
# clock. Not part of `make test`: it takes minutes. The dev profile reuses
# the test build (the soak checks results; make bench measures speed).
soak: setup
	SEED=$(SEED) DRIFTWATCH_BENCH_ONLY=soak $(CARGO) bench --profile dev --bench bench

# What the demo's scans added to the checked-in demo store.
clean-demo:
	rm -rf snapshots/demo/live snapshots/demo/baselines snapshots/demo/scans.jsonl snapshots/demo/report.html
	$(CARGO) run --release --bin driftwatch -- store gc --target demo
