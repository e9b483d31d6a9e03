//! Mount namespaces: a private copy of the mount table, and a fresh `/proc`.
//!
//! A new mount namespace starts as a copy of the parent's mount table. Copy
//! is not separation, though: on systemd hosts `/` and the mounts below it
//! are *shared* (mount_namespaces(7), "shared subtrees"), so a mount made in
//! the copy propagates back to the host's table. Before anything else, the
//! child makes every mount recursively private, as unshare(1) does:
//! `mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)` changes propagation
//! only, in the child's namespace only.
//!
//! With `--mount-proc` (which also asks for a PID namespace) the child then
//! mounts a new proc filesystem on `/proc`. A proc mount shows the processes
//! of the PID namespace of whoever mounts it, so `ps` inside lists only the
//! namespace's processes; without it `ps` reads the host's `/proc`. It is
//! mounted `nosuid`, `nodev` and `noexec`, as proc has no business holding
//! set-user-id programs, devices or executables.
//!
//! The host's `/proc` is not touched: the mount covers it only in the
//! child's namespace, and goes away with the namespace.

use core::ffi::CStr;

use syscalls::Errno;

use crate::sys;

/// The flags of [`make_private`].
pub const PRIVATE_FLAGS: u64 = libc::MS_REC | libc::MS_PRIVATE;

/// The flags of [`mount_proc`].
pub const PROC_FLAGS: u64 = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;

/// The call [`make_private`] makes, for messages.
pub const MAKE_PRIVATE: &str = "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)";

/// The call [`mount_proc`] makes, for messages.
pub const MOUNT_PROC: &str =
    "mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)";

const ROOT: &CStr = c"/";
const PROC: &CStr = c"proc";
const PROC_DIR: &CStr = c"/proc";

/// Make every mount of the caller's namespace private, so that nothing
/// mounted from now on propagates to the host (and nothing comes back).
pub fn make_private() -> Result<(), Errno> {
    sys::mount(None, ROOT, None, PRIVATE_FLAGS, None)
}

/// Mount a new proc filesystem, for the caller's PID namespace, on `/proc`.
pub fn mount_proc() -> Result<(), Errno> {
    mount_proc_on(PROC_DIR)
}

/// Mount a new proc filesystem, for the caller's PID namespace, on `dir`
/// (`DIR/proc` of a new root, see [`super::root`]).
pub fn mount_proc_on(dir: &CStr) -> Result<(), Errno> {
    sys::mount(Some(PROC), dir, Some(PROC), PROC_FLAGS, None)
}
