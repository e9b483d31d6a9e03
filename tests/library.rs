//! The library's pieces, used directly: the clone trampoline on our own
//! stack, the guard page, and `Command` as a program would use it.

mod common;

use std::ffi::OsStr;
use std::hint::black_box;

use nsclone::clone::clone;
use nsclone::exec::ExecPlan;
use nsclone::namespace::{self, Hostname};
use nsclone::stack::{STACK_SIZE, Stack};
use nsclone::wait::{self, WaitStatus};
use nsclone::{Command, Error, sys};

use common::{Host, privileged};

/// Recurse with a 1 KiB frame until the stack runs out.
fn recurse(depth: u64) -> i32 {
    let frame = [depth as u8; 1024];
    if black_box(depth) == u64::MAX {
        return 0;
    }
    recurse(depth + 1) + black_box(&frame)[0] as i32
}

#[test]
fn a_stack_overflow_hits_the_guard_page_and_kills_only_the_child() {
    let stack = Stack::new().unwrap();
    let mut child = || recurse(0);
    // SAFETY: the closure only recurses on its own stack; it allocates and
    // locks nothing.
    let pid = unsafe { clone(libc::SIGCHLD as u64, &stack, &mut child) }.unwrap();
    match wait::wait(pid).unwrap() {
        WaitStatus::Signaled { signal, .. } => assert_eq!(signal, libc::SIGSEGV),
        other => panic!("the child should die of SIGSEGV, not be {other}"),
    }
    // And the parent is still here to say so.
}

#[test]
fn the_child_runs_its_closure_and_exits_with_its_value() {
    let stack = Stack::new().unwrap();
    let mut child = || 42;
    // SAFETY: the closure returns a constant.
    let pid = unsafe { clone(libc::SIGCHLD as u64, &stack, &mut child) }.unwrap();
    assert_eq!(wait::wait(pid).unwrap(), WaitStatus::Exited(42));
}

#[test]
fn flags_that_would_break_the_trampoline_are_refused() {
    let stack = Stack::new().unwrap();
    let mut child = || 0;
    for flags in [
        libc::CLONE_VM,
        libc::CLONE_THREAD | libc::CLONE_SIGHAND | libc::CLONE_VM,
        libc::CLONE_SETTLS,
    ] {
        // SAFETY: refused before any system call, so nothing runs.
        let result = unsafe { clone(flags as u64 | libc::SIGCHLD as u64, &stack, &mut child) };
        assert_eq!(result, Err(syscalls::Errno::EINVAL), "flags {flags:#x}");
    }
}

/// How much of its stack the child's real work uses: the namespace check,
/// sethostname, the mask, and a PATH search that fails twice before exec.
/// With CLONE_VM the child writes into our memory, so after it has exec'd
/// we can see how deep it went: the stack was zero-filled by mmap.
#[test]
fn stack_high_water_mark() {
    if !privileged("stack high-water mark") {
        return;
    }
    let host = Host::snapshot();
    let stack = Stack::new().unwrap();
    let path = OsStr::new("/no/such/dir:/etc/passwd:/usr/bin:/bin");
    let mut plan = ExecPlan::new(OsStr::new("true"), &[], [], Some(path)).unwrap();
    let parent_uts = namespace::uts_of_self().unwrap();
    let mut child = || {
        // The same guard as the real child: never touch the host's name.
        if namespace::uts_of_self() == Ok(parent_uts) {
            return 99;
        }
        let _ = sys::sethostname(b"deep");
        let _ = nsclone::signal::set_mask(nsclone::signal::SigSet::EMPTY);
        plan.exec().exit_code()
    };
    let flags = libc::CLONE_NEWUTS | libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
    // SAFETY: the closure only makes system calls; with CLONE_VFORK we sleep
    // until it has exec'd, and it writes nothing we read but its stack.
    let pid = unsafe { clone(flags as u64, &stack, &mut child) }.unwrap();
    assert_eq!(wait::wait(pid).unwrap(), WaitStatus::Exited(0));
    let low = stack.guard() as usize + nsclone::clone::PAGE_SIZE;
    let usable = stack.top() as usize - low;
    // SAFETY: the mapping is alive and readable above the guard page, and
    // the child no longer runs on it.
    let bytes = unsafe { std::slice::from_raw_parts(low as *const u8, usable) };
    let used = usable - bytes.iter().take_while(|&&b| b == 0).count();
    eprintln!("the child used {used} of {STACK_SIZE} bytes of its stack");
    assert!(used > 0, "the child ran on our stack");
    assert!(
        used < STACK_SIZE / 2,
        "STACK_SIZE leaves less headroom than it claims: {used}"
    );
    host.assert_unchanged();
}

#[test]
fn command_spawns_and_waits() {
    if !privileged("Command") {
        return;
    }
    let host = Host::snapshot();
    let mut command = Command::new("sh");
    command.args(["-c", "test \"$(hostname)\" = lib && exit 9"]);
    command.hostname(Hostname::new("lib").unwrap());
    let child = command.spawn().unwrap();
    assert!(child.pid() > 0);
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(9));

    let error = Command::new("no-such-command-nsclone").spawn().unwrap_err();
    assert!(matches!(error, Error::Exec { .. }), "{error}");
    assert_eq!(error.exit_code(), 127);
    host.assert_unchanged();
}

#[test]
fn command_refuses_nul_bytes() {
    let error = Command::new("echo").arg("a\0b").spawn().unwrap_err();
    assert!(matches!(error, Error::Nul(_)), "{error}");
    assert_eq!(error.exit_code(), 125);
}
