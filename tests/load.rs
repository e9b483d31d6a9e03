//! Load: many launches in a row, many at once, and the library from many
//! threads, all correct, with nothing leaked. `make test` runs scaled-down
//! counts; `NSCLONE_SOAK=full make test` runs the full ones (1,000 in a
//! row, 10,000 library spawns). 64 at once is cheap enough to run always.
//!
//! The tests of this file share one lock: the leak checks count this
//! process's descriptors, mappings and children, which a test running
//! beside them would disturb.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nsclone::namespace::Hostname;
use nsclone::{Command, Error, WaitStatus, sys};

use common::{Host, nsclone, privileged, soak, stderr, stdout};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn launches_in_a_row_each_see_their_own_hostname() {
    if !privileged("launches in a row") {
        return;
    }
    let _serial = serial();
    let _host = Host::guard();
    let count = soak(200, 1000);
    let start = Instant::now();
    for i in 0..count {
        let name = format!("row-{i}");
        let out = nsclone()
            .args(["-q", "-H", &name, "hostname"])
            .output()
            .unwrap();
        assert!(out.status.success(), "launch {i}: {}", stderr(&out));
        assert_eq!(stdout(&out), format!("{name}\n"), "launch {i}");
    }
    let each = start.elapsed() / count as u32;
    eprintln!("{count} launches in a row, {each:?} each (debug build, not a benchmark)");
}

#[test]
fn sixty_four_launches_at_once_each_see_their_own_hostname() {
    if !privileged("launches at once") {
        return;
    }
    let _serial = serial();
    let _host = Host::guard();
    // Each shell prints its hostname, then waits on its stdin: once all 64
    // have printed, all 64 namespaces exist at the same time. Then each is
    // released and prints its hostname again.
    let script = "hostname; read go; hostname";
    let mut children: Vec<_> = (0..64)
        .map(|i| {
            nsclone()
                .args(["-q", "-H", &format!("at-once-{i}"), "sh", "-c", script])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut readers: Vec<_> = children
        .iter_mut()
        .map(|c| BufReader::new(c.stdout.take().unwrap()))
        .collect();
    for (i, reader) in readers.iter_mut().enumerate() {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, format!("at-once-{i}\n"), "before: launch {i}");
    }
    for child in &mut children {
        child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    }
    for (i, (mut child, mut reader)) in children.into_iter().zip(readers).enumerate() {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, format!("at-once-{i}\n"), "after: launch {i}");
        assert!(child.wait().unwrap().success(), "launch {i}");
    }
}

/// What this process holds that a spawn could leak.
#[derive(Debug, PartialEq, Eq)]
struct Held {
    descriptors: usize,
    mappings: usize,
    children: usize,
}

impl Held {
    fn now() -> Held {
        let me = sys::getpid().to_string();
        let children = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
            // The parent's pid is the second field after the ")" of comm.
            .filter(|stat| {
                let after = &stat[stat.rfind(')').unwrap_or(0) + 1..];
                after.split_whitespace().nth(1) == Some(&me)
            })
            .count();
        Held {
            descriptors: std::fs::read_dir("/proc/self/fd").unwrap().count(),
            mappings: std::fs::read_to_string("/proc/self/maps")
                .unwrap()
                .lines()
                .count(),
            children,
        }
    }
}

/// One spawn of the library, by thread `t`, number `i`: most check their
/// hostname with `grep -x` on /proc/sys/kernel/hostname (one exec, no
/// shell); some take the other paths: a failed exec, the hold pipe of
/// `spawn_with`, the parent-death signal.
fn spawn_one(t: usize, i: usize) {
    let name = format!("lib-{t}-{i}");
    let mut command = Command::new("grep");
    command
        .args(["-qxF", "--", &name, "/proc/sys/kernel/hostname"])
        .hostname(Hostname::new(name.clone()).unwrap());
    let child = match i % 16 {
        0 => {
            let error = Command::new("no-such-command-nsclone")
                .hostname(Hostname::new(name).unwrap())
                .spawn()
                .unwrap_err();
            assert!(matches!(error, Error::Exec { .. }), "{error}");
            return;
        }
        1 => command.spawn_with(|pid| assert!(pid > 0)),
        2 => command.parent_death_signal(libc::SIGKILL).spawn(),
        _ => command.spawn(),
    };
    let status = child.unwrap().wait().unwrap();
    assert_eq!(status, WaitStatus::Exited(0), "{name}: wrong hostname?");
}

/// Run `per_thread` spawns on each of 8 threads; panics if they do not all
/// finish within a generous deadline, the sign of a deadlock.
fn spawn_from_eight_threads(per_thread: usize) {
    /// Says "this thread is done" when dropped: also when it panics.
    struct Done(std::sync::mpsc::Sender<()>);
    impl Drop for Done {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }
    let (done, finished) = std::sync::mpsc::channel();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let done = Done(done.clone());
            std::thread::spawn(move || {
                let _done = done;
                for i in 0..per_thread {
                    spawn_one(t, i);
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(600);
    for _ in 0..8 {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            finished.recv_timeout(left).is_ok(),
            "a spawning thread still runs after 10 minutes: deadlock?"
        );
    }
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn the_library_from_eight_threads_leaks_nothing_and_never_deadlocks() {
    if !privileged("library load") {
        return;
    }
    let _serial = serial();
    let _host = Host::guard();
    // A first round lets the allocator make its per-thread arenas, which
    // stay mapped: only then is the mapping count a baseline.
    spawn_from_eight_threads(16);
    let before = Held::now();
    let total = soak(2000, 10_000);
    let start = Instant::now();
    spawn_from_eight_threads(total / 8);
    let each = start.elapsed() / total as u32;
    let after = Held::now();
    eprintln!("{total} library spawns from 8 threads, {each:?} each; held: {after:?}");
    assert_eq!(before, after, "descriptors, mappings or children leaked");
    assert_eq!(after.children, 0, "zombies left behind");
}
