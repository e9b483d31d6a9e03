//! The library's pieces, used directly: the clone trampoline on our own
//! stack, the guard page, and `Command` as a program would use it.

mod common;

use std::hint::black_box;

use nsclone::arch::PAGE_SIZE;
use nsclone::clone::clone;
use nsclone::namespace::Hostname;
use nsclone::signal::SigSet;
use nsclone::stack::{STACK_SIZE, Stack};
use nsclone::wait::WaitStatus;
use nsclone::{Command, Error, sys};

use common::{Host, privileged, stack_used_by_the_child, wait};

/// Recurse until the stack runs out, writing to `pipe` the address of each
/// new page of stack reached, so the parent learns how deep the child got.
fn descend(pipe: i32, lowest_page: usize) -> i32 {
    let frame = [0u8; 512];
    let here = black_box(&frame) as *const [u8; 512] as usize;
    let mut lowest_page = lowest_page;
    if black_box(lowest_page) == 0 {
        return 0; // never: only there so that the recursion may end
    }
    if here / PAGE_SIZE < lowest_page {
        lowest_page = here / PAGE_SIZE;
        let _ = sys::write(pipe, &here.to_ne_bytes());
    }
    descend(pipe, lowest_page) + black_box(&frame)[0] as i32
}

#[test]
fn a_stack_overflow_runs_down_to_the_guard_page_and_kills_only_the_child() {
    let _host = Host::guard();
    let canary = [0x5au8; 4096];
    let stack = Stack::new().unwrap();
    let (pages_r, pages_w) = sys::pipe_cloexec("the pages the child reached").unwrap();
    let mut child = || {
        // As in the real child: no handler of ours may run here, and a
        // core file would be litter.
        let _ = sys::sigprocmask(libc::SIG_SETMASK, SigSet::ALL);
        let _ = sys::setrlimit(libc::RLIMIT_CORE, 0);
        descend(pages_w.raw(), usize::MAX)
    };
    // SAFETY: the closure recurses on its own stack and makes raw system
    // calls only; it allocates and locks nothing.
    let pid = unsafe { clone(libc::SIGCHLD as u64, &stack, &mut child) }.unwrap();
    drop(pages_w);
    let status = wait(pid);
    assert!(
        matches!(
            status,
            WaitStatus::Signaled {
                signal: libc::SIGSEGV,
                ..
            }
        ),
        "the child should die of SIGSEGV, not be {status}"
    );
    assert!(status.to_string().starts_with("killed by SIGSEGV"));

    // Where it went: from the top of the stack we mapped, page by page,
    // down to the page just above the guard, and no further.
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = sys::read(pages_r.raw(), &mut buf) {
        bytes.extend_from_slice(&buf[..n]);
    }
    let pages: Vec<usize> = bytes
        .chunks_exact(8)
        .map(|c| usize::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    let guard_end = stack.guard() as usize + PAGE_SIZE;
    let (first, last) = (pages[0], *pages.last().unwrap());
    assert!(first < stack.top() as usize && first >= stack.top() as usize - PAGE_SIZE);
    assert!(
        last >= guard_end && last < guard_end + PAGE_SIZE,
        "the overflow stopped at {last:#x}, not just above the guard at {guard_end:#x}"
    );
    eprintln!(
        "the child went down {} pages, from {first:#x} to {last:#x}, and died at the guard",
        pages.len()
    );

    // The parent is unharmed: its memory is intact and it goes on working.
    assert!(canary.iter().all(|&b| b == 0x5a));
    let again = Stack::new().unwrap();
    let mut fine = || 7;
    // SAFETY: the closure returns a constant.
    let pid = unsafe { clone(libc::SIGCHLD as u64, &again, &mut fine) }.unwrap();
    assert_eq!(wait(pid), WaitStatus::Exited(7));
}

#[test]
fn the_child_runs_its_closure_and_exits_with_its_value() {
    let _host = Host::guard();
    let stack = Stack::new().unwrap();
    let mut child = || 42;
    // SAFETY: the closure returns a constant.
    let pid = unsafe { clone(libc::SIGCHLD as u64, &stack, &mut child) }.unwrap();
    assert_eq!(wait(pid), WaitStatus::Exited(42));
}

#[test]
fn flags_that_would_break_the_trampoline_are_refused() {
    let stack = Stack::new().unwrap();
    let mut child = || 0;
    for flags in [
        libc::CLONE_VM,
        libc::CLONE_THREAD | libc::CLONE_SIGHAND | libc::CLONE_VM,
        libc::CLONE_SETTLS,
        // Not a flag legacy clone has: it falls in the exit-signal byte.
        libc::CLONE_NEWTIME,
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
    let (status, used) = stack_used_by_the_child(&[b"true"]);
    assert_eq!(status, WaitStatus::Exited(0));
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
