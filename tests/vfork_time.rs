//! `--vfork` and the time namespace, in a test program of its own because
//! it gives this whole process a new namespace for its children.
//!
//! With `CLONE_VM` the kernel does not move the child into the parent's
//! `time_for_children` namespace at clone, as it does in fork style; its
//! execve does, on kernels since 6.2. The child reads no clock before exec,
//! so vfork style is chosen to be fine with a time namespace there: the
//! command lands in the same namespace in both styles. This test holds the
//! kernel to it.

mod common;

use std::fs;

use nsclone::Command;
use nsclone::wait::WaitStatus;
use syscalls::{Sysno, syscall};

use common::{kernel_at_least, privileged, skip, tempdir};

#[test]
fn the_command_enters_the_time_namespace_for_children_in_both_styles() {
    let test = "vfork style and time_for_children";
    if !privileged(test) {
        return;
    }
    if !kernel_at_least(6, 2) {
        skip(
            test,
            "vfork style enters time_for_children only since Linux 6.2",
        );
        return;
    }
    // Namespaces belong to threads: look at this test's own thread.
    let before = fs::read_link("/proc/thread-self/ns/time").unwrap();
    // SAFETY: unshare with CLONE_NEWTIME touches no memory of ours; only
    // the children this thread makes from now on enter the new namespace.
    unsafe { syscall!(Sysno::unshare, libc::CLONE_NEWTIME) }.expect("unshare(CLONE_NEWTIME)");
    let for_children = fs::read_link("/proc/thread-self/ns/time_for_children").unwrap();
    assert_ne!(before, for_children, "a new time namespace for children");

    let dir = tempdir();
    let file = dir.path().join("time");
    let show = format!("readlink /proc/self/ns/time > {}", file.display());
    for vfork in [false, true] {
        let mut command = Command::new("sh");
        command.args(["-c", &show]).vfork(vfork);
        assert_eq!(
            command.spawn().unwrap().wait().unwrap(),
            WaitStatus::Exited(0)
        );
        let seen = fs::read_to_string(&file).unwrap();
        assert_eq!(
            seen.trim(),
            for_children.to_str().unwrap(),
            "vfork {vfork}: the command's time namespace"
        );
    }
}
