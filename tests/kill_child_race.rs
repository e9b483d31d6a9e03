//! `--kill-child` has a race to close: the launcher may die after clone but
//! before the child has armed `PR_SET_PDEATHSIG`, and then no signal would
//! ever come. The child closes it by checking, once armed, that the launcher
//! is still there (see `Command::parent_death_signal`).
//!
//! This test kills a launcher at moments swept across its whole launch, over
//! and over, and checks that its command never outlives it. To see what
//! became of each child, this test process makes itself a child subreaper
//! (prctl(2)): orphans are reparented to it rather than to init, and it can
//! wait for them. It is the only test of this file, since any other child of
//! this process would be reaped by its `wait4(-1)` too.

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nsclone::wait::WaitStatus;
use nsclone::{Command, sys};

use common::{Host, privileged, soak};

/// Set in the environment of the helper process: how long its killer
/// thread waits before it kills the whole helper, in microseconds.
const DELAY: &str = "NSCLONE_RACE_DELAY_US";

/// The helper process, a copy of this test binary run with `--exact
/// race_helper` and [`DELAY`] set: it spawns `sleep 1000` with a parent-death
/// signal, while another thread SIGKILLs the process after the delay. As a
/// plain test (without [`DELAY`]) it does nothing.
#[test]
fn race_helper() {
    let Some(delay) = std::env::var_os(DELAY) else {
        return;
    };
    let delay: u64 = delay.to_str().unwrap().parse().unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_micros(delay));
        let _ = sys::kill(sys::getpid(), libc::SIGKILL);
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

#[test]
fn a_launcher_killed_at_any_moment_never_leaves_its_command_running() {
    if !privileged("--kill-child race") {
        return;
    }
    let _host = Host::guard();
    sys::set_child_subreaper().unwrap();
    let rounds = soak(200, 2000);
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    for round in 0..rounds {
        // Sweep the killer's delay over the launch: it clones within tens
        // of microseconds of the killer's start, and execs a few hundred
        // later. Which moment each delay hits varies with the load, so the
        // outcomes are counted, not predicted.
        let delay = (round * 7) % 400;
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "race_helper", "--test-threads=1", "--nocapture"])
            .env(DELAY, delay.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(libc::SIGKILL)
        );
        // The helper's orphan, if it had cloned one, is now our child.
        let deadline = Instant::now() + Duration::from_secs(10);
        let outcome = loop {
            match sys::wait4(-1, libc::WNOHANG) {
                Err(syscalls::Errno::ECHILD) => break "killed before clone",
                Ok((0, _)) if Instant::now() > deadline => {
                    panic!("round {round} (delay {delay} us): the command outlived its launcher")
                }
                Ok((0, _)) => std::thread::sleep(Duration::from_millis(1)),
                Ok((_, raw)) => match WaitStatus::from_raw(raw) {
                    WaitStatus::Signaled {
                        signal: libc::SIGKILL,
                        ..
                    } => break "killed by the parent-death signal",
                    WaitStatus::Exited(125) => break "saw its parent gone, exited 125",
                    other => panic!("round {round} (delay {delay} us): the child {other}"),
                },
                Err(errno) => panic!("wait4: {errno}"),
            }
        };
        *tally.entry(outcome).or_default() += 1;
    }
    eprintln!("{rounds} launchers killed mid-launch: {tally:?}");
}
