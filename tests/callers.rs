//! nsclone under every caller: a freshly booted machine (clock offsets
//! checked against the clock), closed standard descriptors, a full disk or
//! a broken pipe on its own output, and a mount namespace without /proc.
//!
//! Each launch runs in a process group of its own under a deadline
//! ([`common::DEADLINE`]): a defect that hangs fails the test, its whole
//! group killed, instead of stalling the suite.

mod common;

use std::fs::File;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{
    Host, clock_secs, ending, finish_within, kernel_at_least, nsclone, privileged, run_within,
    skip, stderr, stdout, tempdir,
};

const NSCLONE: &str = env!("CARGO_BIN_EXE_nsclone");

/// A short, fixed PATH, so that the child's search (and its trace) is the
/// same on every machine.
const PATH: &str = "/usr/bin:/bin";

/// Run every case in a thread of its own, so that hung cases wait out
/// their deadlines together; returns one line per failed case (a panic,
/// such as a deadline, counts as a failure).
fn failures<T: Sync + std::fmt::Debug>(
    cases: &[T],
    check: impl Fn(&T) -> Result<(), String> + Sync,
) -> Vec<String> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|case| (case, scope.spawn(|| check(case))))
            .collect();
        handles
            .into_iter()
            .filter_map(|(case, handle)| match handle.join() {
                Ok(Ok(())) => None,
                Ok(Err(why)) => Some(format!("{case:?}: {why}")),
                Err(panic) => {
                    let why = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    Some(format!("{case:?}: panicked: {why}"))
                }
            })
            .collect()
    })
}

/// Panic listing every failure, if any.
fn assert_none(what: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{what}: {} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// 1. Clock offsets are checked against the clock before anything happens.
// ---------------------------------------------------------------------------

/// An offset that would take `clock` below zero is refused first: exit 125,
/// and one line naming the option, the offset and the clock's value, with
/// nothing announced before it (no `-q`) and nothing run.
fn offset_below_zero_is_refused(option: &str, clock: libc::clockid_t, name: &str) {
    let _host = Host::guard();
    // Refused before any namespace is made, so this needs no privilege.
    // The message names `--option VALUE` however the option was spelled.
    for joined in [false, true] {
        let before = clock_secs(clock);
        let offset = -(before + 1000);
        let spelling = match joined {
            false => vec![option.to_string(), offset.to_string()],
            true => vec![format!("{option}={offset}")],
        };
        let out = run_within(
            nsclone()
                .args(&spelling)
                .args(["echo", "ran"])
                .env("PATH", PATH),
            &format!("{spelling:?}"),
        );
        let after = clock_secs(clock);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(125),
            "{spelling:?}: {}: {err}",
            ending(&out)
        );
        assert!(
            out.stdout.is_empty(),
            "{spelling:?}: the command ran: {}",
            stdout(&out)
        );
        let prefix = format!("nsclone: {option} {offset}: the {name} clock reads ");
        let suffix = " s; an offset may not make it negative\n";
        let reads = err
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .unwrap_or_else(|| {
                panic!("{spelling:?}: expected exactly one line `{prefix}S{suffix}`, got:\n{err}")
            });
        let reads: i64 = reads
            .parse()
            .unwrap_or_else(|_| panic!("{spelling:?}: {reads:?} is not whole seconds: {err}"));
        // nsclone read the clock between our two readings.
        assert!(
            (before - 1..=after + 1).contains(&reads),
            "{spelling:?}: the {name} clock read {reads} s, but it read {before}..{after} s here"
        );
    }
}

#[test]
fn a_boottime_offset_below_zero_is_refused_in_one_line_before_anything() {
    offset_below_zero_is_refused("--boottime", libc::CLOCK_BOOTTIME, "boot-time");
}

#[test]
fn a_monotonic_offset_below_zero_is_refused_in_one_line_before_anything() {
    offset_below_zero_is_refused("--monotonic", libc::CLOCK_MONOTONIC, "monotonic");
}

/// The check refuses only what the kernel would: a day forward is fine,
/// however the option is spelled.
#[test]
fn offsets_that_keep_the_clocks_positive_are_accepted() {
    if !privileged("positive clock offsets") {
        return;
    }
    let _host = Host::guard();
    for args in [
        &["--boottime", "86400"][..],
        &["--boottime=86400"],
        &["--monotonic", "86400"],
        &["--monotonic=86400"],
    ] {
        let out = run_within(
            nsclone().arg("-q").args(args).arg("true").env("PATH", PATH),
            &format!("{args:?}"),
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{args:?}: {}", stderr(&out));
    }
}

// ---------------------------------------------------------------------------
// 2. Descriptors 0, 1 and 2 may be closed when nsclone starts.
// ---------------------------------------------------------------------------

/// The modes whose pipes and messages differ (a report pipe, a trace, a
/// parent-death pipe, a sleeping parent, id maps written by the parent).
const MODES: [&[&str]; 5] = [
    &["-q"],
    &["--trace", "-q"],
    &["--kill-child", "-q"],
    &["--vfork", "-q"],
    &["-U", "-q"],
];

/// Prints, one line each, what the shell's descriptors 0, 1 and 2 are
/// (`readlink /proc/$$/fd/N`), or `closed`, into the file "$1". Each
/// readlink runs in a command substitution, so that no redirection of the
/// shell's own descriptors is in force while it looks.
const SHOW_FDS: &str = "a=$(readlink /proc/$$/fd/0 2>/dev/null || echo closed); \
                        b=$(readlink /proc/$$/fd/1 2>/dev/null || echo closed); \
                        c=$(readlink /proc/$$/fd/2 2>/dev/null || echo closed); \
                        printf '%s\\n' \"$a\" \"$b\" \"$c\" > \"$1\"";

/// Which of the descriptors 0, 1, 2 a case closes: bit N closes N.
#[derive(Clone, Copy)]
struct Closed(u8);

impl Closed {
    fn all() -> impl Iterator<Item = Closed> {
        (0..8).map(Closed)
    }

    fn has(self, fd: i32) -> bool {
        self.0 & (1 << fd) != 0
    }

    /// Close them in the child, just before it execs nsclone.
    fn apply(self, command: &mut Command) {
        // SAFETY: close(2) is async-signal-safe, and the closure touches
        // nothing but a copy of the mask.
        unsafe {
            command.pre_exec(move || {
                for fd in 0..3 {
                    if self.has(fd) {
                        libc::close(fd);
                    }
                }
                Ok(())
            });
        }
    }
}

impl std::fmt::Debug for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shell = ["<&-", ">&-", "2>&-"];
        let closed: Vec<&str> = (0..3)
            .filter(|&fd| self.has(fd))
            .map(|fd| shell[fd as usize])
            .collect();
        write!(f, "[{}]", closed.join(" "))
    }
}

/// Start `command` (nsclone and its arguments) with descriptors 0, 1, 2 on
/// the files `in`, `out`, `err` of `dir`, minus those `closed` closes, in a
/// process group of its own; wait for it under the deadline.
fn run_with_closed(mut command: Command, dir: &Path, closed: Closed, what: &str) -> Output {
    std::fs::write(dir.join("in"), "input\n").unwrap();
    command
        .process_group(0)
        .stdin(File::open(dir.join("in")).unwrap())
        .stdout(File::create(dir.join("out")).unwrap())
        .stderr(File::create(dir.join("err")).unwrap());
    closed.apply(&mut command);
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    finish_within(child, what)
}

/// nsclone opens /dev/null on every closed standard descriptor at start-up
/// (as set-user-ID programs and init systems do), so its own pipes never
/// take those numbers and the command starts with 0, 1 and 2 open: on
/// /dev/null where the caller had closed them, untouched elsewhere.
#[test]
fn closed_standard_descriptors_are_reopened_on_dev_null_in_every_mode() {
    if !privileged("closed standard descriptors") {
        return;
    }
    let _host = Host::guard();
    let cases: Vec<(&[&str], Closed)> = MODES
        .iter()
        .flat_map(|mode| Closed::all().map(move |closed| (*mode, closed)))
        .collect();
    let failed = failures(&cases, |&(mode, closed)| {
        let dir = tempdir();
        let report = dir.path().join("fds");
        let mut command = nsclone();
        command
            .args(mode)
            .args(["sh", "-c", SHOW_FDS, "sh"])
            .arg(&report)
            .env("PATH", PATH);
        let what = format!("nsclone {mode:?} sh ... {closed:?}");
        let out = run_with_closed(command, dir.path(), closed, &what);
        let err = std::fs::read_to_string(dir.path().join("err")).unwrap_or_default();
        if out.status.code() != Some(0) {
            return Err(format!("{}; stderr: {err}", ending(&out)));
        }
        let seen = std::fs::read_to_string(&report).unwrap_or_default();
        let seen: Vec<&str> = seen.lines().collect();
        let expected: Vec<String> = ["in", "out", "err"]
            .iter()
            .enumerate()
            .map(|(fd, name)| {
                if closed.has(fd as i32) {
                    "/dev/null".to_string()
                } else {
                    let path = dir.path().join(name).canonicalize().unwrap();
                    path.to_string_lossy().into_owned()
                }
            })
            .collect();
        if seen != expected {
            return Err(format!(
                "the command's 0, 1, 2 are {seen:?}, expected {expected:?}"
            ));
        }
        Ok(())
    });
    assert_none("closed standard descriptors", failed);
}

/// A PATH of 200 long, missing directories: the child traces 400 lines
/// (some 150 KB, more than a pipe holds) while it searches. With stderr
/// closed, those lines must go to /dev/null, not into one of nsclone's own
/// pipes, where they would fill it and hang the launch.
#[test]
fn a_long_traced_search_with_stderr_closed_finishes() {
    if !privileged("long traced search, stderr closed") {
        return;
    }
    let _host = Host::guard();
    let mut path: String = (0..200)
        .map(|i| format!("/nonexistent-nsclone-test/{}/{i:03}:", "d".repeat(250)))
        .collect();
    path.push_str(PATH);
    let modes: [&[&str]; 4] = [&[], &["--vfork"], &["--kill-child"], &["-U"]];
    // Every combination that closes stderr.
    let cases: Vec<(&[&str], Closed)> = modes
        .iter()
        .flat_map(|mode| Closed::all().filter(|c| c.has(2)).map(move |c| (*mode, c)))
        .collect();
    let failed = failures(&cases, |&(mode, closed)| {
        let dir = tempdir();
        let mut command = nsclone();
        command
            .args(mode)
            .args(["--trace", "-q", "true"])
            .env("PATH", &path);
        let what = format!("nsclone {mode:?} --trace -q true {closed:?}");
        let out = run_with_closed(command, dir.path(), closed, &what);
        match out.status.code() {
            Some(0) => Ok(()),
            _ => Err(ending(&out)),
        }
    });
    assert_none("long traced search, stderr closed", failed);
}

// ---------------------------------------------------------------------------
// 3. nsclone's own output never changes its exit status, and never aborts.
// ---------------------------------------------------------------------------

/// Run `command` as [`run_within`] does, but with stdout and stderr as
/// given.
fn run_within_to(
    command: &mut Command,
    stdout: impl Into<Stdio>,
    stderr: impl Into<Stdio>,
    what: &str,
) -> Output {
    let child = command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    finish_within(child, what)
}

/// Command lines and the exit status each must end with, whatever becomes
/// of what nsclone writes.
const OWN_OUTPUT_CASES: [(&[&str], i32); 8] = [
    (&["-q", "nosuchcmd-xyz"], 127),
    (&["--bogus"], 125),
    (&["-H", "", "true"], 125),
    (&["-q", "true"], 0),
    // Not quiet: it announces the launch.
    (&["true"], 0),
    (&["--trace", "-q", "true"], 0),
    (&["--show-ns", "true"], 0),
    (&["--vfork", "true"], 0),
];

/// Run each case with stderr as `make_stderr()` makes it (and SIGPIPE as
/// `ignore_sigpipe` says); each must end with its status, never by a
/// signal (134 is SIGABRT from a panic), and print no panic.
fn own_output_cases(
    what: &str,
    make_stderr: impl Fn() -> Stdio + Sync,
    ignore_sigpipe: bool,
) -> Vec<String> {
    failures(&OWN_OUTPUT_CASES, |&(args, expected)| {
        let mut command = nsclone();
        command.args(args).env("PATH", PATH);
        if ignore_sigpipe {
            sigpipe_ignored(&mut command);
        }
        let what = format!("{what}: nsclone {args:?}");
        let out = run_within_to(&mut command, Stdio::piped(), make_stderr(), &what);
        if out.status.code() != Some(expected) {
            return Err(format!("{}, expected exit {expected}", ending(&out)));
        }
        if stdout(&out).contains("panicked") {
            return Err(format!("a panic on stdout: {}", stdout(&out)));
        }
        Ok(())
    })
}

/// Have the command start with SIGPIPE ignored (it survives exec), after
/// std has set it back to the default in the child.
fn sigpipe_ignored(command: &mut Command) {
    // SAFETY: signal(2) is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            Ok(())
        });
    }
}

/// A pipe's write end whose read end is already closed: writing to it
/// fails with EPIPE (or raises SIGPIPE).
fn broken_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two descriptors, which we then own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both are fresh descriptors nobody else owns.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

fn dev_full() -> File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full")
}

/// Every write to /dev/full fails with ENOSPC: nsclone's messages are lost,
/// its exit status is not.
#[test]
fn own_messages_to_a_full_disk_never_change_the_exit_status() {
    if !privileged("stderr on /dev/full") {
        return;
    }
    let _host = Host::guard();
    let failed = own_output_cases("2>/dev/full", || dev_full().into(), false);
    assert_none("stderr on /dev/full", failed);
}

/// A reader that is gone, with SIGPIPE ignored (as a caller may leave it,
/// and nsclone inherits it): every write fails with EPIPE, and that must
/// change nothing either.
#[test]
fn own_messages_to_a_broken_pipe_never_change_the_exit_status() {
    if !privileged("stderr on a broken pipe") {
        return;
    }
    let _host = Host::guard();
    // The premise: a process started this way has SIGPIPE ignored.
    let mut probe = Command::new("cat");
    probe.arg("/proc/self/status").stdout(Stdio::piped());
    sigpipe_ignored(&mut probe);
    let status = String::from_utf8(probe.output().unwrap().stdout).unwrap();
    let ignored = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .map(|mask| u64::from_str_radix(mask.trim(), 16).unwrap())
        .expect("SigIgn line");
    assert_ne!(
        ignored & (1 << (libc::SIGPIPE - 1)),
        0,
        "test setup: SIGPIPE not ignored"
    );

    let failed = own_output_cases("2>|broken pipe, SIGPIPE ignored", broken_pipe, true);
    assert_none("stderr on a broken pipe", failed);
}

/// `--help` and `--version` print to stdout; when that fails, nsclone says
/// so on stderr in one line, as coreutils does, and exits 1.
#[test]
fn help_and_version_to_a_full_disk_say_write_error_and_exit_1() {
    let failed = failures(&["--help", "-V"], |&option| {
        let what = format!("{option} >/dev/full");
        let out = run_within_to(nsclone().arg(option), dev_full(), Stdio::piped(), &what);
        let err = stderr(&out);
        if out.status.code() != Some(1) {
            return Err(format!("{}, expected exit 1; stderr: {err}", ending(&out)));
        }
        if err != "nsclone: write error: No space left on device\n" {
            return Err(format!("stderr is not the one line expected: {err:?}"));
        }
        Ok(())
    });
    assert_none("--help/-V >/dev/full", failed);
}

/// With nowhere at all to write, the status alone tells: 1.
#[test]
fn help_and_version_with_both_outputs_full_exit_1() {
    let failed = failures(&["--help", "-V"], |&option| {
        let what = format!("{option} >/dev/full 2>/dev/full");
        let out = run_within_to(nsclone().arg(option), dev_full(), dev_full(), &what);
        match out.status.code() {
            Some(1) => Ok(()),
            _ => Err(format!("{}, expected exit 1", ending(&out))),
        }
    });
    assert_none("--help/-V >/dev/full 2>/dev/full", failed);
}

// ---------------------------------------------------------------------------
// 4. A mount namespace without /proc.
// ---------------------------------------------------------------------------

/// Run `nsclone ARGS` inside `unshare -m --propagation private`, after
/// `umount -l /proc` there (the host's /proc stays: the mount namespace is
/// private, and Host::guard checks the host's mount table).
fn without_proc(test: &str, args: &[&str]) -> Option<Output> {
    if !privileged(test) {
        return None;
    }
    if !kernel_at_least(6, 11) {
        skip(
            test,
            "needs Linux 6.11+ (pidfd ioctls that name a process's namespaces)",
        );
        return None;
    }
    let mut command = Command::new("unshare");
    command
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(r#"umount -l /proc && exec "$@""#)
        .arg("sh")
        .arg(NSCLONE)
        .args(args)
        .env("PATH", PATH)
        .current_dir("/");
    Some(run_within(
        &mut command,
        &format!("{test}: nsclone {args:?}"),
    ))
}

/// Panic unless `out` is a success that printed exactly `expected`.
fn assert_printed(out: &Output, expected: &str) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        ending(out),
        stderr(out)
    );
    assert_eq!(stdout(out), expected, "{}", stderr(out));
}

/// The child checks that its UTS namespace is new (before it sets the
/// hostname) without /proc/self/ns.
#[test]
fn without_proc_the_child_still_sets_its_own_hostname() {
    let _host = Host::guard();
    let Some(out) = without_proc("no /proc: hostname", &["-q", "hostname"]) else {
        return;
    };
    assert_printed(&out, "newhostname\n");
}

/// --mount-proc needs no /proc before it: it mounts a fresh one.
#[test]
fn without_proc_mount_proc_works() {
    let _host = Host::guard();
    let args = ["-q", "--mount-proc", "sh", "-c", "echo $$"];
    let Some(out) = without_proc("no /proc: --mount-proc", &args) else {
        return;
    };
    assert_printed(&out, "1\n");
}

/// Id maps are written through /proc/PID/uid_map: without /proc, --user
/// cannot work, and nsclone says so in one line that names /proc and the
/// id maps that need it (not a bare failed stat, with no hint).
#[test]
fn without_proc_user_is_refused_in_one_line_naming_proc_and_the_id_maps() {
    let _host = Host::guard();
    let Some(out) = without_proc("no /proc: --user", &["-q", "-U", "echo", "ran"]) else {
        return;
    };
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(125), "{}: {err}", ending(&out));
    assert!(out.stdout.is_empty(), "the command ran: {}", stdout(&out));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/proc"), "{err}");
    assert!(
        err.contains("map"),
        "the reason, the id maps, is not named: {err}"
    );
}
