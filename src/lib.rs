//! nsclone runs a command in new Linux namespaces, and shows how, one raw
//! system call at a time.
//!
//! The launch, in the order it happens (each step has its own module):
//!
//! 1. [`exec`]: the parent prepares argv, envp and the PATH candidates,
//!    because the child may not allocate;
//! 2. [`stack`]: it maps the child's stack with mmap(2), a guard page below;
//! 3. [`namespace::time`]: for a time namespace, it unshares one for its
//!    children (clone(2) cannot create that type);
//! 4. [`signal`]: it blocks signals, so that nothing leaks into the child;
//! 5. [`clone`]: clone(2) with `CLONE_NEWUTS` and the other `CLONE_NEW*`
//!    flags (and `CLONE_VM|CLONE_VFORK` in vfork style), through an assembly
//!    trampoline, because the child starts on an empty stack;
//! 6. [`namespace::user`]: with a user namespace, the parent writes the
//!    child's uid and gid maps while the child waits;
//! 7. [`namespace`]: the child checks that each namespace it changes is not
//!    the parent's, then sets the hostname with sethostname(2), makes its
//!    mounts private ([`namespace::mount`]) and brings `lo` up
//!    ([`namespace::net`]);
//! 8. [`exec`]: it execs the command with execve(2), searching PATH itself;
//! 9. [`wait`]: the parent waits with wait4(2) and ends as its child did.
//!
//! Before any of it, the binary checks its [`credentials`]: it refuses to
//! run set-user-ID.
//!
//! [`command`] tells that story in one place, the parent's side, and
//! [`child`] the child's, between clone and exec; [`sys`] is the only module
//! that makes system calls, and with `--trace` each of its functions writes
//! the call it made, decoded, with why ([`trace`]). Unsafe code is confined
//! to the modules that need it, and each block says why it is sound.
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

#![deny(missing_docs, unsafe_code)]

pub mod child;
#[allow(unsafe_code)]
pub mod clone;
#[allow(unsafe_code)]
pub mod command;
pub mod credentials;
pub mod error;
#[allow(unsafe_code)]
pub mod exec;
pub mod namespace;
pub mod signal;
#[allow(unsafe_code)]
pub mod stack;
#[allow(unsafe_code)]
pub mod sys;
#[allow(unsafe_code)]
pub mod trace;
pub mod wait;

pub use command::{Child, Command};
pub use error::Error;
pub use wait::WaitStatus;
