# nsclone: the two commands a newcomer needs are `make run CMD=sh` and `make test`.

CMD ?= sh
# The hostname inside the new UTS namespace (HOSTNAME itself is often set by
# the shell, so the variable has another name).
NEW_HOSTNAME ?= newhostname
# More namespaces, as nsclone's options: FLAGS='--pid --mount-proc --net'.
FLAGS ?=
BIN := target/release/nsclone
# `make container`: the root file system it runs in; by default a tree
# built from a static busybox (Debian: busybox-static) under target/.
ROOT ?= target/container/rootfs
BUSYBOX ?= /bin/busybox

# `make install` puts each part where the system looks for it: the binary,
# the manual page, and a completion for each shell, in the directory from
# which that shell loads it on demand. PREFIX=/usr for a distribution's
# package; DESTDIR stages the whole tree in a directory instead of /.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man/man1
BASHDIR = $(PREFIX)/share/bash-completion/completions
ZSHDIR = $(PREFIX)/share/zsh/site-functions
FISHDIR = $(PREFIX)/share/fish/vendor_completions.d

.PHONY: build run container test soak lint bench bench-full install uninstall

build:
	cargo build --release

# As root, the namespaces are created directly. As anyone else, --user is
# added: the child gets a user namespace of its own, where it has the
# capabilities the other namespaces need (if the kernel allows it). A shell
# fragment that sets $user, for `make run` and `make container`.
ROOTLESS = user=; \
	if [ "$$(id -u)" -ne 0 ]; then \
		user=--user; \
		echo "make $@: not root, so adding --user: you are root (uid 0) only inside the new user namespace" >&2; \
	fi

run: build
	@$(ROOTLESS); \
	set -- $(BIN) --show-ns --hostname '$(NEW_HOSTNAME)' $$user $(FLAGS) $(CMD); \
	echo "$$*"; \
	exec "$$@"

# A tiny container: a root of its own (pivot_root into $(ROOT)), its own
# PID 1 and /proc, hostname, and network with lo, running $(CMD) (found in
# the container's PATH: sh by default). As anyone but root, --user is
# added, as for `make run`. PS1 gives sh the prompt of a root shell,
# whatever the shell would pick.
container: build $(ROOT)/bin/sh
	@echo "make container: the root file system is $(ROOT)"
	@$(ROOTLESS); \
	set -- $(BIN) --root $(ROOT) --pid --net --hostname box $$user $(FLAGS) $(CMD); \
	echo "$$*"; \
	PS1='# ' exec "$$@"

# The default tree: busybox, a relative link per applet (so they resolve
# inside; `busybox --install -s` would link to busybox's path on the host),
# empty /proc and /tmp, and /dev/null where mknod is allowed (as root).
target/container/rootfs/bin/sh: $(BUSYBOX)
	@mkdir -p target/container/rootfs/bin target/container/rootfs/dev \
		target/container/rootfs/proc target/container/rootfs/tmp
	@chmod 1777 target/container/rootfs/tmp
	@cp $(BUSYBOX) target/container/rootfs/bin/busybox
	@for applet in $$($(BUSYBOX) --list); do \
		[ "$$applet" = busybox ] || ln -sf busybox target/container/rootfs/bin/$$applet; \
	done
	@[ -e target/container/rootfs/dev/null ] || \
		mknod -m 666 target/container/rootfs/dev/null c 1 3 2>/dev/null || true

$(BUSYBOX):
	@echo "make container: no static busybox at $(BUSYBOX): apt-get install busybox-static, or give ROOT=DIR" >&2
	@exit 1

# The release build as make sees it, for `make install`: rebuilt when a
# source is newer than the binary. So `sudo make install` after a build as
# yourself runs no cargo as root (root may have none, and its build would
# leave files owned by root in target/). cargo decides what to recompile;
# the touch records that the binary is up to date even when a file it does
# not depend on (a test) was newer.
$(BIN): Cargo.toml Cargo.lock build.rs $(shell find src -name '*.rs')
	cargo build --release
	@touch $@

# Each file with its mode, creating the directories (install -D). The
# completions are named as each shell's loader looks them up: the command's
# name for bash, _nsclone for zsh, nsclone.fish for fish.
install: $(BIN)
	install -D -m 755 $(BIN) $(DESTDIR)$(BINDIR)/nsclone
	install -D -m 644 man/nsclone.1 $(DESTDIR)$(MANDIR)/nsclone.1
	install -D -m 644 completions/nsclone.bash $(DESTDIR)$(BASHDIR)/nsclone
	install -D -m 644 completions/_nsclone $(DESTDIR)$(ZSHDIR)/_nsclone
	install -D -m 644 completions/nsclone.fish $(DESTDIR)$(FISHDIR)/nsclone.fish

# Exactly the files install made. The directories stay: they may have been
# there before, and other programs' files may be in them.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nsclone $(DESTDIR)$(MANDIR)/nsclone.1 \
		$(DESTDIR)$(BASHDIR)/nsclone $(DESTDIR)$(ZSHDIR)/_nsclone \
		$(DESTDIR)$(FISHDIR)/nsclone.fish

# Every target but the binary's own unit tests: the binary has none (its
# logic is in the library) and a test harness could not start without
# libc's start files, which build.rs leaves out of the binary.
test:
	cargo test --lib --tests --benches
	cargo test --doc

# The soak tests at full counts: 1,000 launches in a row, 10,000 library
# spawns from 8 threads, 4,000 launchers killed mid-launch, 2,000 random
# command lines.
soak:
	NSCLONE_SOAK=full cargo test --test load --test kill_child_race --test fuzz --test execvp --test trace_order -- --nocapture

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
