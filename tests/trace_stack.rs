//! How much of its stack a *tracing* child uses. With `--trace` the child
//! formats each line with `core::fmt` into a buffer on its own stack
//! (`trace::LINE_MAX` bytes), so it goes deeper than without; the stack
//! must still leave ample room (`STACK_SIZE`).
//!
//! Tracing is switched on for the whole process, so this test has a binary
//! of its own; the lines go to a file, not to the test's output.

mod common;

use std::os::fd::AsRawFd;

use nsclone::stack::STACK_SIZE;
use nsclone::wait::WaitStatus;
use nsclone::{sys, trace};

use common::{Host, privileged, stack_used_by_the_child};

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
    sys::getpid();

    let long = "a long argument".repeat(20);
    // The stack's munmap is traced too, into the file.
    let (status, used) = stack_used_by_the_child(&[b"true", long.as_bytes()]);

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
