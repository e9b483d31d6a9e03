//! nsclone runs a command in a new Linux UTS namespace, and shows how, one
//! raw system call at a time.
//!
//! The launch, in the order it happens (each step has its own module):
//!
//! 1. [`exec`]: the parent prepares argv, envp and the PATH candidates,
//!    because the child may not allocate;
//! 2. [`stack`]: it maps the child's stack with mmap(2), a guard page below;
//! 3. [`signal`]: it blocks signals, so that nothing leaks into the child;
//! 4. [`clone`]: clone(2) with `CLONE_NEWUTS` (and `CLONE_VM|CLONE_VFORK`
//!    in vfork style), through an assembly trampoline, because the child
//!    starts on an empty stack;
//! 5. [`namespace`]: the child checks that it really is in a new UTS
//!    namespace, then sets the hostname with sethostname(2);
//! 6. [`exec`]: it execs the command with execve(2), searching PATH itself;
//! 7. [`wait`]: the parent waits with wait4(2) and ends as its child did.
//!
//! [`command`] tells that story in one place; [`sys`] is the only module
//! that makes system calls. Unsafe code is confined to the modules that
//! need it, and each block says why it is sound.
//!
//! ```no_run
//! use nsclone::{Command, namespace::Hostname};
//!
//! let child = Command::new("hostname")
//!     .hostname(Hostname::new("newhostname").unwrap())
//!     .spawn()?;
//! let status = child.wait()?;
//! assert_eq!(status.exit_code(), 0);
//! # Ok::<(), nsclone::Error>(())
//! ```

#![deny(missing_docs, unsafe_code)]

#[allow(unsafe_code)]
pub mod clone;
#[allow(unsafe_code)]
pub mod command;
pub mod error;
#[allow(unsafe_code)]
pub mod exec;
pub mod namespace;
pub mod signal;
#[allow(unsafe_code)]
pub mod stack;
#[allow(unsafe_code)]
pub mod sys;
pub mod wait;

pub use command::{Child, Command};
pub use error::Error;
pub use wait::WaitStatus;
