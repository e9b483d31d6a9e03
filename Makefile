# nsclone: the two commands a newcomer needs are `make run CMD=sh` and `make test`.

CMD ?= sh
# The hostname inside the new UTS namespace (HOSTNAME itself is often set by
# the shell, so the variable has another name).
NEW_HOSTNAME ?= newhostname
# .cargo/config.toml names the target (for static linking), hence the path.
BIN := target/x86_64-unknown-linux-gnu/release/nsclone

.PHONY: build run test lint bench bench-full

build:
	cargo build --release

run: build
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make run: a new UTS namespace needs CAP_SYS_ADMIN, which only root has here." >&2; \
		echo "make run: run it as root: sudo make run CMD='$(CMD)'" >&2; \
		exit 1; \
	fi
	$(BIN) --show-ns --hostname '$(NEW_HOSTNAME)' $(CMD)

test:
	cargo test --all-targets
	cargo test --doc

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

# Benchmarks (root: they create namespaces). Quick mode, under a minute:
# tables on the terminal and in target/bench-results/. The full mode runs
# ten times the rounds and writes results/, which the README shows.
bench:
	cargo bench --bench launch -- --quick

bench-full:
	cargo bench --bench launch -- --full
