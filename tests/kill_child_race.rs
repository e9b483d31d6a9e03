//! `--kill-child` has a race to close: the launcher may die after clone but
//! before the child has armed `PR_SET_PDEATHSIG`, and then no signal would
//! ever come. The child closes it by checking, once armed, that the launcher
//! is still there (see `Command::parent_death_signal`).
//!
//! This test kills launchers at moments swept across their whole launch,
//! over and over, and checks that the command never outlives them: the
//! library in a multi-threaded process, and the nsclone binary, with and
//! without a new PID namespace. To see what
//! became of each child, this test process makes itself a child subreaper
//! (prctl(2)): orphans are reparented to it rather than to init, and it can
//! wait for them. It is the only test of this file, since any other child of
//! this process would be reaped by its `wait4(-1)` too.

mod common;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nsclone::wait::WaitStatus;
use nsclone::{Command, sys};

use common::{Host, privileged, soak};

/// Set in the environment of the helper process: how long its killer
/// thread waits before it kills the whole helper, in microseconds.
const DELAY: &str = "NSCLONE_RACE_DELAY_US";

/// The helper process, a copy of this test binary run with `--ignored
/// --exact race_helper` and [`DELAY`] set: it spawns `sleep 1000` with a
/// parent-death signal, while another thread SIGKILLs the process after the
/// delay. Not a test of its own: ignored, and it refuses to run without
/// [`DELAY`].
#[test]
#[ignore = "a helper process: run by a_launcher_killed_at_any_moment_never_leaves_its_command_running"]
fn race_helper() {
    let delay = std::env::var_os(DELAY).unwrap_or_else(|| {
        panic!("race_helper is a helper process, not a test: {DELAY} is not set")
    });
    let delay: u64 = delay.to_str().unwrap().parse().unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_micros(delay));
        let _ = sys::kill(sys::getpid(), libc::SIGKILL, "the race: the launcher dies");
    });
    let _ = Command::new("sleep")
        .arg("1000")
        .parent_death_signal(libc::SIGKILL)
        .spawn();
    // Spawned or not, wait for the killer.
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// What became of the orphan of a launcher just killed, if it had made
/// one: it is our child now. Panics if it outlives its launcher.
fn orphan_outcome(what: &str) -> &'static str {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match sys::wait4(-1, libc::WNOHANG) {
            Err(syscalls::Errno::ECHILD) => return "killed before clone",
            Ok(None) if Instant::now() > deadline => {
                panic!("{what}: the command outlived its launcher")
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(1)),
            Ok(Some(status)) => match status {
                WaitStatus::Signaled {
                    signal: libc::SIGKILL,
                    ..
                } => return "killed by the parent-death signal",
                WaitStatus::Exited(125) => return "saw its parent gone, exited 125",
                other => panic!("{what}: the child {other}"),
            },
            Err(errno) => panic!("wait4: {errno}"),
        }
    }
}

#[test]
fn a_launcher_killed_at_any_moment_never_leaves_its_command_running() {
    if !privileged("--kill-child race") {
        return;
    }
    let _host = Host::guard();
    sys::set_child_subreaper().unwrap();
    let rounds = soak(200, 2000);
    // Which moment each delay hits varies with the load, so the outcomes
    // are counted, not predicted.
    let mut tally: BTreeMap<(&str, &str), usize> = BTreeMap::new();

    // The library in a multi-threaded process: the helper's spawn clones
    // within tens of microseconds of its killer's start, and execs a few
    // hundred later.
    for round in 0..rounds {
        let delay = (round * 7) % 400;
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "race_helper",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(DELAY, delay.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        let outcome = orphan_outcome(&format!("library, delay {delay} us"));
        *tally.entry(("library", outcome)).or_default() += 1;
    }

    // The nsclone binary, single-threaded, killed by this process; with
    // --pid, getppid(2) reads 0 in the child, and the pipe alone tells.
    for (mode, extra) in [("nsclone", None), ("nsclone --pid", Some("--pid"))] {
        for round in 0..rounds / 2 {
            let delay = (round * 29) % 3000;
            let mut launcher = common::nsclone()
                .args(["-q", "--kill-child"])
                .args(extra)
                .args(["sleep", "1000"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_micros(delay as u64));
            let _ = sys::kill(launcher.id() as i32, libc::SIGKILL, "the race");
            let status = launcher.wait().unwrap();
            assert_eq!(
                status.signal(),
                Some(libc::SIGKILL),
                "{mode}, delay {delay} us"
            );
            let outcome = orphan_outcome(&format!("{mode}, delay {delay} us"));
            *tally.entry((mode, outcome)).or_default() += 1;
        }
    }
    eprintln!("launchers killed mid-launch: {tally:?}");
}
