# nsclone: the two commands a newcomer needs are `make run CMD=sh` and `make test`.

CMD ?= sh
# The hostname inside the new UTS namespace (HOSTNAME itself is often set by
# the shell, so the variable has another name).
NEW_HOSTNAME ?= newhostname
BIN := target/release/nsclone

.PHONY: build run test lint

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
