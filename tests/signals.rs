//! Signals: the launcher is transparent to them. A command killed by any
//! signal is reported as that signal; SIGTERM and SIGHUP sent to the
//! launcher end the command, and the launcher with it, the same way; with
//! `--kill-child`, killing the launcher, even by SIGKILL, kills the command.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Host, privileged, tempdir};

/// nsclone, started with every signal at its default action.
///
/// glibc's posix_spawn, which std uses, starts children with signals 32 and
/// 33 (its internal SIGCANCEL and SIGSETXID) *ignored*, and an ignored signal
/// stays ignored through exec: through the harness, a command could never
/// die of them. Resetting them before exec gives the launcher, and so the
/// command, a clean slate.
fn nsclone() -> std::process::Command {
    clean(common::nsclone())
}

fn clean(mut command: std::process::Command) -> std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec the closure makes only raw
    // rt_sigaction calls: no allocation, no lock.
    unsafe {
        command.pre_exec(|| {
            for sig in [32, 33] {
                nsclone::sys::sigaction_default(sig)
                    .map_err(|e| std::io::Error::from_raw_os_error(e.into_raw()))?;
            }
            Ok(())
        });
    }
    command
}

/// The signals whose default action ends a process (signal(7)): all but the
/// stop signals and those ignored by default.
fn fatal_signals() -> impl Iterator<Item = i32> {
    let harmless = [
        libc::SIGCHLD,
        libc::SIGCONT,
        libc::SIGSTOP,
        libc::SIGTSTP,
        libc::SIGTTIN,
        libc::SIGTTOU,
        libc::SIGURG,
        libc::SIGWINCH,
    ];
    (1..=64).filter(move |sig| !harmless.contains(sig))
}

#[test]
fn a_command_killed_by_any_signal_is_reported_as_that_signal() {
    if !privileged("every signal") {
        return;
    }
    let _host = Host::guard();
    for sig in fatal_signals() {
        // No core file: the signals that dump core would leave one.
        let script = format!("ulimit -c 0; kill -{sig} $$");
        let out = nsclone()
            .args(["-q", "sh", "-c", &script])
            .output()
            .unwrap();
        assert_eq!(
            out.status.signal(),
            Some(sig),
            "signal {sig}: {:?}",
            out.status
        );
        assert!(out.stderr.is_empty(), "signal {sig}: {:?}", out.stderr);
    }
}

/// Start nsclone with `args`, and return once the command has printed its
/// first line (so it runs), with that line.
fn start(args: &[&str]) -> (Child, String) {
    let mut child = nsclone().args(args).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim_end().to_owned())
}

fn kill(pid: u32, sig: i32) {
    nsclone::sys::kill(pid as i32, sig, "the test").unwrap();
}

#[test]
fn sigterm_and_sighup_to_the_launcher_end_both_the_same_way() {
    if !privileged("forwarded signals") {
        return;
    }
    let _host = Host::guard();
    // The command has no trap: the forwarded signal kills it, and the
    // launcher then dies of the same signal, as a shell would see.
    for sig in [libc::SIGTERM, libc::SIGHUP] {
        let (mut launcher, line) = start(&["-q", "sh", "-c", "echo ready; exec sleep 1000"]);
        assert_eq!(line, "ready");
        kill(launcher.id(), sig);
        let status = launcher.wait().unwrap();
        assert_eq!(status.signal(), Some(sig), "signal {sig}: {status:?}");
    }
}

/// Whether process `pid` (started at `start_time`, to tell it from a
/// process that reused its pid) is gone, waiting up to 10 s: the kernel
/// delivers the parent-death signal at once, but the orphan is reaped by
/// whoever inherits it.
fn ends_soon(pid: i32, start_time: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match proc_stat(pid) {
            Some((state, started)) if started == start_time && state != "Z" => {}
            _ => return true,
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// The state and start time of `pid`, from /proc/PID/stat.
fn proc_stat(pid: i32) -> Option<(String, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    Some((fields[0].to_owned(), fields[19].to_owned()))
}

/// The host pid of the launcher's only child (inside a new PID namespace
/// the command knows itself as 1).
fn only_child(launcher: &Child) -> i32 {
    let pid = launcher.id();
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap();
    children.trim().parse().unwrap()
}

#[test]
fn kill_child_takes_the_command_along_when_the_launcher_is_killed() {
    if !privileged("--kill-child") {
        return;
    }
    let _host = Host::guard();
    let command = ["sh", "-c", "echo ready; exec sleep 1000"];
    // With --pid the command is PID 1 of its namespace, which ignores
    // signals it has no handler for, but not SIGKILL from outside.
    for (options, kill_child) in [
        (&["-q", "--kill-child"][..], true),
        (&["-q", "--kill-child", "--pid"][..], true),
        (&["-q"][..], false),
    ] {
        let args: Vec<&str> = options.iter().chain(&command).copied().collect();
        let (mut launcher, ready) = start(&args);
        assert_eq!(ready, "ready");
        let pid = only_child(&launcher);
        let (_, started) = proc_stat(pid).unwrap();
        kill(launcher.id(), libc::SIGKILL);
        assert_eq!(launcher.wait().unwrap().signal(), Some(libc::SIGKILL));
        if kill_child {
            assert!(
                ends_soon(pid, &started),
                "{options:?}: the command outlived the launcher"
            );
        } else {
            // Without the option, the command goes on: the contrast shows
            // that the option, not chance, ended it above.
            std::thread::sleep(Duration::from_millis(100));
            let alive = proc_stat(pid).is_some_and(|(s, t)| t == started && s != "Z");
            assert!(
                alive,
                "without --kill-child the command should outlive the launcher"
            );
            nsclone::sys::kill(pid, libc::SIGKILL, "the test").unwrap();
        }
    }
}

#[test]
fn kill_child_sends_the_signal_it_is_given() {
    if !privileged("--kill-child=SIG") {
        return;
    }
    let _host = Host::guard();
    let dir = tempdir();
    let got = dir.path().join("got");
    let script = format!(
        "for s in HUP USR1 TERM; do trap \"echo $s > '{}'; exit 0\" $s; done; \
         echo ready; while :; do sleep 0.02; done",
        got.display()
    );
    for (option, name) in [
        ("--kill-child=USR1", "USR1"),
        ("--kill-child=SIGTERM", "TERM"),
        ("--kill-child=1", "HUP"),
    ] {
        let _ = std::fs::remove_file(&got);
        let (mut launcher, line) = start(&["-q", option, "sh", "-c", &script]);
        assert_eq!(line, "ready");
        kill(launcher.id(), libc::SIGKILL);
        launcher.wait().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = String::new();
        while Instant::now() < deadline && seen.is_empty() {
            std::thread::sleep(Duration::from_millis(10));
            seen = std::fs::read_to_string(&got).unwrap_or_default();
        }
        assert_eq!(seen.trim(), name, "{option}");
    }
}

/// A process's blocked and ignored signals, as the kernel shows them in the
/// `SigBlk` and `SigIgn` lines of /proc/PID/status: bit N-1 is signal N.
#[derive(Debug, PartialEq, Eq)]
struct Masks {
    blocked: u64,
    ignored: u64,
}

/// The bit of signal `sig` in a mask of /proc/PID/status.
fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// What a command ran as `grep -E '^Sig(Blk|Ign)' /proc/self/status`
/// printed: each mask exactly once, and nothing else.
fn masks(out: &std::process::Output) -> Masks {
    let text = String::from_utf8_lossy(&out.stdout);
    let mask = |name: &str| -> u64 {
        let values: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .collect();
        assert_eq!(values.len(), 1, "one {name} line in {text:?}");
        u64::from_str_radix(values[0].trim(), 16).unwrap()
    };
    let masks = Masks {
        blocked: mask("SigBlk"),
        ignored: mask("SigIgn"),
    };
    assert_eq!(text.lines().count(), 2, "only the two masks: {text:?}");
    masks
}

/// The command that shows a process's masks, as [`masks`] reads them.
const SHOW_MASKS: [&str; 4] = ["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"];

#[test]
fn nothing_the_launcher_changes_leaks_into_the_command() {
    if !privileged("signal dispositions") {
        return;
    }
    let _host = Host::guard();
    // Started cleanly, a command has nothing ignored or blocked: the same
    // command started directly says what the kernel gives it. nsclone blocks
    // the signals it supervises, which may not stay blocked in the command;
    // and it ignores no SIGPIPE, as Rust programs do, having no std runtime
    // (see the README's Signals section).
    let direct = clean(std::process::Command::new(SHOW_MASKS[0]))
        .args(&SHOW_MASKS[1..])
        .output()
        .unwrap();
    let through = nsclone().arg("-q").args(SHOW_MASKS).output().unwrap();
    let nothing = Masks {
        blocked: 0,
        ignored: 0,
    };
    assert_eq!(masks(&direct), nothing);
    assert_eq!(masks(&through), masks(&direct));

    // What the caller set is inherited, as through any exec: here an
    // ignored SIGINT, as a shell that runs the command itself passes it on.
    let show = SHOW_MASKS.map(|w| format!("'{w}'")).join(" ");
    let launcher = env!("CARGO_BIN_EXE_nsclone");
    let caller = |command: &str| {
        clean(std::process::Command::new("sh"))
            .args(["-c", &format!("trap '' INT; exec {command}")])
            .output()
            .unwrap()
    };
    let direct = caller(&show);
    let through = caller(&format!("'{launcher}' -q {show}"));
    assert_eq!(
        masks(&direct),
        Masks {
            blocked: 0,
            ignored: bit(libc::SIGINT),
        }
    );
    assert_eq!(masks(&through), masks(&direct));

    // The visible consequence of a leaked SIG_IGN for SIGPIPE: a writer to a
    // closed pipe would never die of it.
    let out = clean(std::process::Command::new("sh"))
        .args(["-c", &format!("'{launcher}' -q yes | head -n 1")])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"y\n");
    assert!(
        out.stderr.is_empty(),
        "yes should die of SIGPIPE quietly: {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// nsclone started with SIGCHLD ignored (it survives exec, and some
/// supervisors leave it so): while it is ignored the kernel reaps children
/// at once and sends no SIGCHLD, so a launcher that kept it would wait
/// forever and never learn the status. nsclone takes it back for itself and
/// gives the command the caller's "ignored" again.
#[test]
fn a_caller_that_ignores_sigchld_gets_the_status_and_the_command_the_setting() {
    use std::os::unix::process::CommandExt;

    if !privileged("SIGCHLD ignored") {
        return;
    }
    let _host = Host::guard();
    let ignoring_sigchld = |mut command: std::process::Command| {
        command.stdout(std::process::Stdio::piped());
        // SAFETY: between fork and exec the closure makes one raw
        // rt_sigaction call: no allocation, no lock.
        unsafe {
            command.pre_exec(|| {
                nsclone::sys::sigaction_ignore(libc::SIGCHLD)
                    .map_err(|e| std::io::Error::from_raw_os_error(e.into_raw()))
            });
        }
        let mut child = command.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{command:?}: still waits for a child the kernel reaped");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        child.wait_with_output().unwrap()
    };
    let mut exit_7 = nsclone();
    exit_7.args(["-q", "sh", "-c", "exit 7"]);
    let out = ignoring_sigchld(exit_7);
    assert_eq!(out.status.code(), Some(7));
    // The command's masks are those of the same command started directly
    // with SIGCHLD ignored: that one, and nothing blocked.
    let mut direct = clean(std::process::Command::new(SHOW_MASKS[0]));
    direct.args(&SHOW_MASKS[1..]);
    let direct = ignoring_sigchld(direct);
    let mut through = nsclone();
    through.arg("-q").args(SHOW_MASKS);
    let through = ignoring_sigchld(through);
    assert_eq!(
        masks(&direct),
        Masks {
            blocked: 0,
            ignored: bit(libc::SIGCHLD),
        }
    );
    assert_eq!(masks(&through), masks(&direct));
}

/// The command of the tests below, a shell that counts the SIGTERMs it
/// takes: it sets its trap, says "ready", waits until the file named by its
/// first argument exists (the test creates it once every signal has
/// landed), prints the count and exits 3. A shell runs a trap between
/// commands, so two signals that both arrive during one `sleep` count once,
/// as the kernel counts two that meet pending once: a standard signal does
/// not queue (signal(7)).
const COUNT_SIGTERM: &str = "n=0; trap 'n=$((n + 1))' TERM; echo ready; \
    until [ -e \"$1\" ]; do sleep 0.01; done; echo $n; exit 3";

/// The command of [`COUNT_SIGTERM`], started by `leader` as the first
/// process of a process group of its own, so that a signal to that group
/// reaches nothing of the test harness. If the test fails before
/// [`Counting::finish`], dropping this kills the whole group: while its
/// leader is not reaped, the group's id can name no other group.
struct Counting {
    leader: Child,
    out: BufReader<std::process::ChildStdout>,
    go: std::path::PathBuf,
    reaped: bool,
}

impl Counting {
    /// Start `command sh -c COUNT_SIGTERM sh GO` (GO removed first, left
    /// by an earlier run); return once the command's trap is set.
    fn start(mut command: std::process::Command, go: &std::path::Path) -> Counting {
        use std::os::unix::process::CommandExt;
        let _ = std::fs::remove_file(go);
        command
            .args(["sh", "-c", COUNT_SIGTERM, "sh"])
            .arg(go)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // Kept for the failure messages, and to keep the shell's
            // "Terminated" for each `sleep` killed by the signal out of the log.
            .stderr(Stdio::piped());
        let mut leader = command.spawn().unwrap();
        let out = BufReader::new(leader.stdout.take().unwrap());
        let mut counting = Counting {
            leader,
            out,
            go: go.to_owned(),
            reaped: false,
        };
        let mut line = String::new();
        counting.out.read_line(&mut line).unwrap();
        assert_eq!(line, "ready\n");
        counting
    }

    /// The pid of the group's leader, which is also the group's id.
    fn pid(&self) -> i32 {
        self.leader.id() as i32
    }

    /// Let the command finish (create GO), and return how the leader ended
    /// and the count the command printed, within 20 s.
    fn finish(mut self) -> (std::process::ExitStatus, u32) {
        use std::io::Read;
        std::fs::write(&self.go, "").unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.leader.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the command did not end within 20 s of being told to"
            );
            std::thread::sleep(Duration::from_millis(1));
        };
        self.reaped = true;
        let (mut count, mut errors) = (String::new(), String::new());
        self.out.read_to_string(&mut count).unwrap();
        let mut stderr = self.leader.stderr.take().unwrap();
        stderr.read_to_string(&mut errors).unwrap();
        let count = count.trim().parse().unwrap_or_else(|_| {
            panic!("{status:?}, printed {count:?}, stderr {errors:?}");
        });
        (status, count)
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = nsclone::sys::kill(-self.pid(), libc::SIGKILL, "the test");
            let _ = self.leader.wait();
        }
    }
}

/// Whether process `pid` has taken every signal sent to it and sleeps
/// again: nothing pending (SigPnd, ShdPnd in /proc/PID/status), and asleep
/// inside a system call (/proc/PID/syscall starts with its number; it
/// reads "running" while the process runs, "-1" while it sleeps outside
/// any call). For nsclone that call is rt_sigtimedwait, entered again only
/// after the signal it took was forwarded: its copy has then reached the
/// command. Asked after the sender's kill(2) returned, the answer cannot
/// come too early.
fn settled(pid: i32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let nothing_pending = status
        .lines()
        .filter(|l| l.starts_with("SigPnd:") || l.starts_with("ShdPnd:"))
        .all(|l| l.ends_with("0000000000000000"));
    let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap();
    let in_a_call = syscall
        .split(' ')
        .next()
        .is_some_and(|nr| nr.parse::<u64>().is_ok());
    nothing_pending && in_a_call
}

/// Wait, up to 20 s, until [`settled`].
fn wait_until_settled(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !settled(pid) {
        if Instant::now() > deadline {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
            let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap();
            panic!("process {pid} never settled: {status} {syscall}");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Run [`COUNT_SIGTERM`] under `nsclone OPTIONS`, send SIGTERM to
/// `to(PID)`, PID being nsclone's (`|pid| pid` for nsclone alone, `|pid|
/// -pid` for its process group), and return how many times the command
/// took it, once nsclone has ended as the command did (exit 3).
fn sigterms_taken(options: &[&str], go: &std::path::Path, to: fn(i32) -> i32) -> u32 {
    let mut command = nsclone();
    command.args(options);
    let launcher = Counting::start(command, go);
    nsclone::sys::kill(to(launcher.pid()), libc::SIGTERM, "the test").unwrap();
    wait_until_settled(launcher.pid());
    let (status, count) = launcher.finish();
    assert_eq!(status.code(), Some(3), "{options:?}: {status:?}");
    count
}

/// A SIGTERM sent to nsclone alone (`kill PID`) is forwarded, and the
/// command takes it exactly once: nothing else sent one. With `--pid` too,
/// since the command's trap is a handler, which PID 1 does not ignore.
#[test]
fn a_signal_to_nsclone_alone_reaches_the_command_once() {
    if !privileged("a signal to nsclone alone") {
        return;
    }
    let _host = Host::guard();
    let dir = tempdir();
    let go = dir.path().join("go");
    for options in [&["-q"][..], &["-q", "--pid"]] {
        for _ in 0..common::soak(20, 500) {
            let count = sigterms_taken(options, &go, |pid| pid);
            assert_eq!(count, 1, "{options:?}");
        }
    }
}

/// A SIGTERM sent to nsclone's whole process group (`kill -- -PGID`, and so
/// `kill 0` in a script) reaches the command directly, and nsclone, in the
/// same group, forwards its own copy: nsclone cannot tell the two kinds
/// apart (kill(2) sends both with si_code SI_USER and the same sender). The
/// command takes it once, or twice when it had taken the first before the
/// copy came. nsclone itself survives it (blocked), waits for the command
/// and ends as it did. See the README's Signals section.
#[test]
fn a_signal_to_the_process_group_reaches_the_command_once_or_twice() {
    if !privileged("a signal to the process group") {
        return;
    }
    let _host = Host::guard();
    let dir = tempdir();
    let go = dir.path().join("go");
    for options in [&["-q"][..], &["-q", "--pid"]] {
        let mut seen = std::collections::BTreeMap::new();
        for _ in 0..common::soak(20, 500) {
            let count = sigterms_taken(options, &go, |pid| -pid);
            assert!((1..=2).contains(&count), "{options:?}: taken {count} times");
            *seen.entry(count).or_insert(0) += 1;
        }
        eprintln!("{options:?}: SIGTERM to the group, taken N times: runs {seen:?}");
    }
}

/// `timeout DURATION nsclone ...`: when its timer expires, timeout sends
/// SIGTERM to nsclone, then (without --foreground) to its whole process
/// group, command included. nsclone gets it twice (once if the two meet
/// pending) and forwards each, so the command takes it one to three times.
///
/// The timer is the SIGALRM that timer_create(2) delivers to timeout, and
/// timeout's handler for it is what sends the signals. The test sends that
/// SIGALRM itself once the command is ready, instead of a short DURATION
/// that a slow machine could let expire before the shell had set its trap.
/// `--preserve-status` makes timeout exit as nsclone did, not 124.
#[test]
fn timeout_reaches_the_command_one_to_three_times() {
    if !privileged("timeout(1) around nsclone") {
        return;
    }
    let _host = Host::guard();
    let dir = tempdir();
    let go = dir.path().join("go");
    let mut seen = std::collections::BTreeMap::new();
    for _ in 0..common::soak(20, 500) {
        let mut command = clean(std::process::Command::new("timeout"));
        command
            .args(["--preserve-status", "600", env!("CARGO_BIN_EXE_nsclone")])
            .arg("-q");
        let timeout = Counting::start(command, &go);
        let launcher = only_child(&timeout.leader);
        // timeout arms its timer after fork and then sleeps in its wait
        // loop; only from then on is a SIGALRM its timer's (before, its
        // handler can run before fork's result is stored, and it exits 143
        // without signalling anyone).
        wait_until_settled(timeout.pid());
        nsclone::sys::kill(timeout.pid(), libc::SIGALRM, "the test").unwrap();
        wait_until_settled(timeout.pid());
        wait_until_settled(launcher);
        let (status, count) = timeout.finish();
        assert_eq!(status.code(), Some(3), "{status:?}");
        assert!((1..=3).contains(&count), "taken {count} times");
        *seen.entry(count).or_insert(0) += 1;
    }
    eprintln!("timeout around nsclone, SIGTERM taken N times: runs {seen:?}");
}
