//! How much of its stack a *tracing* child uses. With `--trace` the child
//! formats each line with `core::fmt` into a buffer on its own stack
//! (`trace::LINE_MAX` bytes), so it goes deeper than without; the stack
//! must still leave ample room (`STACK_SIZE`).
//!
//! Tracing is switched on for the whole process, so this test has a binary
//! of its own; the lines go to a file, not to the test's output.

mod common;

use std::ffi::OsStr;
use std::os::fd::AsRawFd;

use nsclone::clone::{PAGE_SIZE, clone};
use nsclone::exec::ExecPlan;
use nsclone::namespace;
use nsclone::signal::{self, SigSet};
use nsclone::stack::{STACK_SIZE, Stack};
use nsclone::wait::{self, WaitStatus};
use nsclone::{sys, trace};

use common::{Host, privileged};

#[test]
fn a_tracing_child_stays_well_within_its_stack() {
    if !privileged("a_tracing_child_stays_well_within_its_stack") {
        return;
    }
    let _host = Host::guard();
    let lines = tempfile_in_target();
    // Standard error becomes the file while the child traces.
    // SAFETY: dup and dup2 on descriptors this process owns.
    let saved = unsafe { libc::dup(2) };
    assert!(saved >= 0);
    // SAFETY: as above; 2 is replaced by the file, restored below.
    assert_eq!(unsafe { libc::dup2(lines.as_raw_fd(), 2) }, 2);
    trace::enable();

    let stack = Stack::new().unwrap();
    let path = OsStr::new("/no/such/dir:/etc/passwd:/usr/bin:/bin");
    let args = ["a long argument".repeat(20).into()];
    let mut plan = ExecPlan::new(OsStr::new("true"), &args, [], Some(path)).unwrap();
    let parent_uts = namespace::uts_of_self().unwrap();
    let mut child = || {
        if namespace::uts_of_self() == Ok(parent_uts) {
            return 99;
        }
        let _ = sys::sethostname(b"deep");
        let _ = signal::set_mask(SigSet::EMPTY);
        plan.exec().exit_code()
    };
    let flags = libc::CLONE_NEWUTS | libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
    // SAFETY: the closure only makes system calls; with CLONE_VFORK we sleep
    // until it has exec'd, and it writes nothing we read but its stack.
    let pid = unsafe { clone(flags as u64, &stack, &mut child) }.unwrap();
    let status = wait::wait(pid).unwrap();
    let low = stack.guard() as usize + PAGE_SIZE;
    let usable = stack.top() as usize - low;
    // SAFETY: the mapping is alive and readable above the guard page, and
    // the child no longer runs on it.
    let bytes = unsafe { std::slice::from_raw_parts(low as *const u8, usable) };
    let used = usable - bytes.iter().take_while(|&&b| b == 0).count();
    drop(stack); // its munmap is traced too, into the file

    // SAFETY: restores standard error from the saved copy.
    unsafe {
        libc::dup2(saved, 2);
        libc::close(saved);
    }
    assert_eq!(status, WaitStatus::Exited(0));
    eprintln!("the tracing child used {used} of {STACK_SIZE} bytes of its stack");
    assert!(
        used < STACK_SIZE / 2,
        "STACK_SIZE leaves less headroom than it claims: {used}"
    );

    let text = std::fs::read_to_string(lines.path()).unwrap();
    let child_lines = text.lines().filter(|l| l.starts_with("child[")).count();
    assert!(child_lines >= 6, "the child traced its calls:\n{text}");
    assert!(
        text.contains("child[") && text.contains("execve(\"/usr/bin/true\""),
        "{text}"
    );
}

/// A file for the trace lines, removed when dropped.
fn tempfile_in_target() -> tempfile::NamedTempFile {
    tempfile::NamedTempFile::new_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}
