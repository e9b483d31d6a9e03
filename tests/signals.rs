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
    // signals and, being a Rust program, ignores SIGPIPE: neither may reach
    // the command.
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
    use std::time::{Duration, Instant};

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
