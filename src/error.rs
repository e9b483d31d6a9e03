//! Errors: each names the step that failed, the errno and what it means.
//!
//! A message reads like `sethostname("x"): EPERM (Operation not permitted):
//! hint`, so the reader learns which request the kernel refused and why.
//! [`Error::exit_code`] maps each to the conventional exit status: 127 for a
//! command not found, 126 for one that cannot be executed, 125 for nsclone's
//! own failures.

use std::ffi::OsString;
use std::fmt;

use syscalls::Errno;

use crate::exec::ExecFailure;
use crate::namespace::HostnameError;

/// Exit code when nsclone itself failed, before the command could run.
pub const EXIT_LAUNCHER: i32 = 125;

/// Everything that can go wrong while starting a command.
#[derive(Debug)]
pub enum Error {
    /// The hostname was refused before any system call.
    Hostname(HostnameError),
    /// An argument or environment string contains a NUL byte.
    Nul(OsString),
    /// A system call of the launcher failed; `call` says which and with what.
    Syscall {
        /// The call as it was made, such as `mmap(stack)`.
        call: String,
        /// What the kernel answered.
        errno: Errno,
    },
    /// Vfork style was asked together with something it cannot serve,
    /// because the parent sleeps until the child has exec'd; names what.
    Vfork(&'static str),
    /// The child found itself in its parent's UTS namespace and refused to
    /// set the hostname (that would have changed the host's).
    SameUtsNamespace,
    /// The child's sethostname failed.
    Sethostname {
        /// The name it tried to set.
        name: Vec<u8>,
        /// What the kernel answered.
        errno: Errno,
    },
    /// The command could not be executed.
    Exec {
        /// The command's name, as given.
        program: OsString,
        /// The path whose execve decided the outcome, if any was tried.
        path: Option<OsString>,
        /// The child's report.
        failure: ExecFailure,
    },
}

impl Error {
    /// A failed system call of the launcher.
    pub fn syscall(call: impl Into<String>, errno: Errno) -> Error {
        Error::Syscall {
            call: call.into(),
            errno,
        }
    }

    /// The exit status nsclone ends with for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Exec { failure, .. } => failure.exit_code(),
            _ => EXIT_LAUNCHER,
        }
    }
}

/// An errno as its name and meaning: `EPERM (Operation not permitted)`.
pub fn describe(errno: Errno) -> String {
    match (errno.name(), errno.description()) {
        (Some(name), Some(meaning)) => format!("{name} ({meaning})"),
        _ => format!("errno {}", errno.into_raw()),
    }
}

/// A hint for the errors a learner is most likely to meet.
fn hint(call: &str, errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EPERM if call.starts_with("clone") => {
            Some("a new UTS namespace needs CAP_SYS_ADMIN: run nsclone as root (sudo)")
        }
        Errno::ENOMEM | Errno::EAGAIN if call.starts_with("clone") => {
            Some("the system is out of memory or processes (see ulimit -u)")
        }
        Errno::ENOSPC if call.starts_with("clone") => {
            Some("too many namespaces of this type exist (see /proc/sys/user/max_*_namespaces)")
        }
        _ => None,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Hostname(e) => write!(f, "hostname: {e}"),
            Error::Nul(s) => write!(
                f,
                "{s:?}: arguments and environment cannot contain NUL bytes"
            ),
            Error::Syscall { call, errno } => {
                write!(f, "{call}: {}", describe(*errno))?;
                match hint(call, *errno) {
                    Some(hint) => write!(f, ": {hint}"),
                    None => Ok(()),
                }
            }
            Error::Vfork(what) => write!(
                f,
                "vfork style cannot serve {what}: the parent sleeps until the command \
                 has exec'd (use the default fork style)"
            ),
            Error::SameUtsNamespace => write!(
                f,
                "child: refusing to set the hostname: its UTS namespace is the parent's, \
                 so the host's hostname would change"
            ),
            Error::Sethostname { name, errno } => {
                let name = String::from_utf8_lossy(name);
                write!(f, "sethostname({name:?}): {}", describe(*errno))?;
                match *errno {
                    Errno::EINVAL => write!(f, ": hostnames are at most 64 bytes"),
                    Errno::EPERM => write!(f, ": needs CAP_SYS_ADMIN in the namespace's owner"),
                    _ => Ok(()),
                }
            }
            Error::Exec {
                program,
                path,
                failure,
            } => {
                let errno = describe(failure.errno);
                match path {
                    _ if failure.interpreter_missing => write!(
                        f,
                        "execve({:?}): {errno}: the file exists, so its interpreter \
                         (the #! line) or ELF loader is missing",
                        path.as_deref().unwrap_or(program)
                    ),
                    Some(path) if failure.exit_code() == 126 => {
                        write!(f, "execve({path:?}): {errno}: cannot execute")
                    }
                    _ => write!(f, "execvp({program:?}): {errno}: command not found"),
                }
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<HostnameError> for Error {
    fn from(e: HostnameError) -> Error {
        Error::Hostname(e)
    }
}
