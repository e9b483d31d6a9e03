//! nsclone runs a command in new Linux namespaces, and shows how, one raw
//! system call at a time.
//!
//! The launch, in the order it happens (each step has its own module):
//!
//! 1. [`start`]: the nsclone binary begins at its own `_start`, and reads
//!    its arguments and environment where the kernel left them; [`cli`]
//!    parses them; [`credentials`]: it refuses to run set-user-ID;
//! 2. [`command`] prepares: the parent checks what cannot work here, then
//!    [`exec`] keeps argv and the environment for execve as they are, and
//!    [`stack`] maps the child's stack with mmap(2), a guard page below;
//! 3. [`namespace::join`]: to run in existing namespaces, it enters them
//!    with setns(2) (and returns after clone); [`namespace::time`]: for a
//!    time namespace, it unshares one for its children (clone(2) cannot
//!    create that type);
//! 4. [`clone`]: clone(2) with `CLONE_NEWUTS` and the other `CLONE_NEW*`
//!    flags (and `CLONE_VM|CLONE_VFORK` in vfork style), through an assembly
//!    trampoline ([`arch`]), because the child starts on an empty stack;
//! 5. [`namespace::user`]: with a user namespace, the parent writes the
//!    child's uid and gid maps while the child waits;
//! 6. [`child`]: the child checks that each namespace it changes is not the
//!    parent's ([`namespace`]), then sets the hostname with sethostname(2),
//!    makes its mounts private ([`namespace::mount`]), brings `lo` up
//!    ([`namespace::net`]), pivots into a root of its own with `--root`
//!    ([`namespace::root`]), and execs the command, searching PATH itself
//!    ([`exec`]);
//! 7. [`namespace::keep`]: to keep the new namespaces, the parent
//!    bind-mounts their files once the command runs; [`supervise`]: the
//!    parent waits with wait4(2), passes signals on, and ends as its child
//!    did.
//!
//! Read bottom-up, the modules never import upwards:
//!
//! - the processor: [`arch`], the only assembly;
//! - plain data, no system calls: [`signal`], [`wait`] (statuses and exit
//!   codes), [`text`] (formatting without a heap), [`strace`] (strace's
//!   notation), [`start`] (the initial stack);
//! - [`trace`], the mechanism of `--trace`; then [`sys`], the only module
//!   that makes system calls, each function traced;
//! - the steps: [`stack`], [`clone`], [`exec`], [`namespace`],
//!   [`credentials`], [`child`];
//! - [`error`], then [`command`] (the parent's story) and [`supervise`];
//! - for the nsclone binary: [`cli`], [`show`] (`--show-ns`), [`runtime`]
//!   (a heap, panics and messages, without std).
//!
//! The library is `#![no_std]` (with `alloc` for a caller's own argv and
//! `--show-ns`), so the same code runs in the nsclone binary, which has
//! neither libc nor std, and in ordinary std programs:
//!
//! ```no_run
//! use nsclone::Command;
//! use nsclone::namespace::{Hostname, Namespace};
//!
//! let child = Command::new("hostname")
//!     .hostname(Hostname::new("newhostname").unwrap())
//!     .namespace(Namespace::Pid)
//!     .namespace(Namespace::User)
//!     .spawn()?;
//! let status = child.wait()?;
//! assert_eq!(status.exit_code(), 0);
//! # Ok::<(), nsclone::Error>(())
//! ```

#![cfg_attr(not(test), no_std)]
#![deny(missing_docs, unsafe_code)]

extern crate alloc;

#[allow(unsafe_code)]
pub mod arch;
pub mod child;
pub mod cli;
#[allow(unsafe_code)]
pub mod clone;
#[allow(unsafe_code)]
pub mod command;
pub mod credentials;
pub mod error;
#[allow(unsafe_code)]
pub mod exec;
pub mod namespace;
#[allow(unsafe_code)]
pub mod runtime;
pub mod show;
pub mod signal;
#[allow(unsafe_code)]
pub mod stack;
#[allow(unsafe_code)]
pub mod start;
#[allow(unsafe_code)]
pub mod strace;
pub mod supervise;
#[allow(unsafe_code)]
pub mod sys;
pub mod text;
#[allow(unsafe_code)]
pub mod trace;
pub mod wait;

#[cfg(test)]
mod cli_props;

pub use command::{Child, Command};
pub use error::Error;
pub use wait::WaitStatus;
