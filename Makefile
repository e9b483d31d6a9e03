# nsclone: the two commands a newcomer needs are `make run CMD=sh` and `make test`.

CMD ?= sh
# The hostname inside the new UTS namespace (HOSTNAME itself is often set by
# the shell, so the variable has another name).
NEW_HOSTNAME ?= newhostname
# More namespaces, as nsclone's options: FLAGS='--pid --mount-proc --net'.
FLAGS ?=
BIN := target/release/nsclone

.PHONY: build run test soak lint bench bench-full

build:
	cargo build --release

# As root, the namespaces are created directly. As anyone else, --user is
# added: the child gets a user namespace of its own, where it has the
# capabilities the other namespaces need (if the kernel allows it).
run: build
	@user=; \
	if [ "$$(id -u)" -ne 0 ]; then \
		user=--user; \
		echo "make run: not root, so adding --user: you are root (uid 0) only inside the new user namespace" >&2; \
	fi; \
	set -- $(BIN) --show-ns --hostname '$(NEW_HOSTNAME)' $$user $(FLAGS) $(CMD); \
	echo "$$*"; \
	exec "$$@"

test:
	cargo test --all-targets
	cargo test --doc

# The soak tests at full counts: 1,000 launches in a row, 10,000 library
# spawns from 8 threads, 4,000 launchers killed mid-launch, 2,000 random
# command lines.
soak:
	NSCLONE_SOAK=full cargo test --test load --test kill_child_race --test fuzz -- --nocapture

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	RUSTDOCFLAGS='-D warnings' cargo doc --no-deps

# Benchmarks (root: they create namespaces; cc compiles the C launchers).
# Quick mode, under a minute: tables on the terminal and in
# target/bench-results/. The full mode runs more rounds and writes
# results/, which the README shows. Both run $(BIN), built here first.
bench: build
	cargo bench --bench launch -- --quick

bench-full: build
	cargo bench --bench launch -- --full
