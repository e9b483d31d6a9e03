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
use crate::namespace::{HostnameError, Namespace};

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
    /// The child found itself in its parent's namespace of this type and
    /// refused to change anything in it (that would have changed the
    /// host's hostname, mounts or network).
    SameNamespace(Namespace),
    /// The request cannot be carried out by this kernel or this caller;
    /// refused before anything was changed.
    Unsupported(&'static str),
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
        /// What the parent found when it looked at `path` ([`crate::exec::explain`]).
        reason: Option<String>,
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

/// Why unprivileged user namespaces may be refused, for hints.
const USERNS_RESTRICTED: &str = "the kernel refused an unprivileged user namespace: \
    they may be disabled (sysctl user.max_user_namespaces=0, or \
    kernel.unprivileged_userns_clone=0 on Debian-patched kernels) or restricted \
    by the distribution (AppArmor on Ubuntu 23.10+: \
    kernel.apparmor_restrict_unprivileged_userns=1); run as root instead";

/// A hint for the errors a learner is most likely to meet, from the call
/// as the error names it and the errno.
fn hint(call: &str, errno: Errno) -> Option<&'static str> {
    let user = call.contains("CLONE_NEWUSER");
    match errno {
        Errno::EPERM | Errno::EACCES if call.starts_with("clone") && user => {
            Some(USERNS_RESTRICTED)
        }
        Errno::EPERM if call.starts_with("clone") => Some(
            "creating namespaces needs CAP_SYS_ADMIN: run nsclone as root (sudo), \
             or add --user (-U) to create them inside a user namespace of your own",
        ),
        Errno::ENOMEM | Errno::EAGAIN if call.starts_with("clone") => {
            Some("the system is out of memory or processes (see ulimit -u)")
        }
        Errno::ENOSPC if call.starts_with("clone") && user => Some(
            "too many user namespaces, or none allowed: see /proc/sys/user/max_user_namespaces \
             (0 disables them) and the nesting limit of 32",
        ),
        Errno::ENOSPC if call.starts_with("clone") => {
            Some("too many namespaces of this type exist (see /proc/sys/user/max_*_namespaces)")
        }
        Errno::EPERM if call.contains("unshare(CLONE_NEWTIME)") && call.starts_with("child") => {
            Some(USERNS_RESTRICTED)
        }
        Errno::EPERM if call.contains("unshare(CLONE_NEWTIME)") => Some(
            "a time namespace needs CAP_SYS_ADMIN: run nsclone as root (sudo), or add \
             --user (-U), and the child creates it inside its own user namespace",
        ),
        Errno::EINVAL if call.contains("CLONE_NEWTIME") => {
            Some("this kernel has no time namespaces (they need Linux 5.6+ with CONFIG_TIME_NS)")
        }
        Errno::EPERM if call.contains("timens_offsets") => Some(
            "clock offsets need CAP_SYS_TIME in the user namespace that owns the time namespace",
        ),
        Errno::ERANGE if call.contains("timens_offsets") => {
            Some("an offset may not make a clock negative, nor push it past about 146 years")
        }
        Errno::EACCES if call.contains("timens_offsets") => {
            Some("offsets can only be set while no process is in the time namespace")
        }
        Errno::EPERM if call.contains("_map\"") => Some(
            "the kernel refused the map: without CAP_SETUID/CAP_SETGID over the parent user \
             namespace, a process may map only its own effective id, once, and gid_map only \
             after setgroups is denied",
        ),
        Errno::EPERM if call.contains("MS_PRIVATE") => Some(
            "changing mount propagation needs CAP_SYS_ADMIN in the user namespace that owns \
             the mount namespace",
        ),
        Errno::EPERM if call.contains("\"proc\"") => Some(
            "mounting proc needs CAP_SYS_ADMIN over the PID namespace; inside a user namespace \
             the kernel also wants a fully visible /proc on the host (none of its files hidden \
             by over-mounts, as container runtimes do)",
        ),
        Errno::EPERM | Errno::EACCES if call.contains("SIOCSIFFLAGS") => Some(
            "bringing lo up needs CAP_NET_ADMIN in the user namespace that owns the network \
             namespace",
        ),
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
            Error::SameNamespace(ns) => write!(
                f,
                "child: refusing to change its {ns} namespace: it is the parent's, \
                 so the host's {} would change",
                ns.isolates()
            ),
            Error::Unsupported(why) => write!(f, "cannot do that here: {why}"),
            Error::Sethostname { name, errno } => {
                let name = String::from_utf8_lossy(name);
                write!(f, "sethostname({name:?}): {}", describe(*errno))?;
                match *errno {
                    Errno::EINVAL => write!(f, ": hostnames are at most 64 bytes"),
                    Errno::EPERM => write!(
                        f,
                        ": needs CAP_SYS_ADMIN in the user namespace that owns the UTS \
                         namespace (with --user, a distribution that restricts unprivileged \
                         user namespaces, such as Ubuntu 23.10+ with AppArmor, leaves the \
                         child without capabilities)"
                    ),
                    _ => Ok(()),
                }
            }
            Error::Exec {
                program,
                path,
                failure,
                reason,
            } => {
                let errno = describe(failure.errno);
                match (path, reason) {
                    (Some(path), _) if failure.exit_code() == 126 => {
                        let reason = reason.as_deref().unwrap_or("cannot execute");
                        write!(f, "execve({path:?}): {errno}: {reason}")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn message(call: &str, errno: Errno) -> String {
        Error::syscall(call, errno).to_string()
    }

    #[test]
    fn messages_name_the_call_and_the_errno() {
        let m = message("unshare(CLONE_NEWTIME)", Errno::EPERM);
        assert!(
            m.starts_with("unshare(CLONE_NEWTIME): EPERM (Operation not permitted): "),
            "{m}"
        );
    }

    #[test]
    fn clone_refusals_point_to_root_or_user() {
        let m = message("clone(CLONE_NEWUTS|CLONE_NEWPID|SIGCHLD)", Errno::EPERM);
        assert!(m.contains("--user") && m.contains("root"), "{m}");
        let m = message("clone(CLONE_NEWUTS|CLONE_NEWUSER|SIGCHLD)", Errno::EPERM);
        assert!(
            m.contains("AppArmor") && m.contains("max_user_namespaces"),
            "{m}"
        );
        let m = message("clone(CLONE_NEWUTS|CLONE_NEWUSER|SIGCHLD)", Errno::ENOSPC);
        assert!(m.contains("max_user_namespaces"), "{m}");
    }

    #[test]
    fn each_namespace_step_has_a_hint() {
        let cases = [
            ("unshare(CLONE_NEWTIME)", Errno::EPERM, "--user"),
            ("child: unshare(CLONE_NEWTIME)", Errno::EPERM, "AppArmor"),
            (
                "write(\"/proc/self/timens_offsets\", \"monotonic 1 0\")",
                Errno::EPERM,
                "CAP_SYS_TIME",
            ),
            (
                "write(\"/proc/self/timens_offsets\", \"monotonic -9 0\")",
                Errno::ERANGE,
                "negative",
            ),
            (
                "write(\"/proc/42/uid_map\", \"0 1000 1\")",
                Errno::EPERM,
                "own",
            ),
            (
                "write(\"/proc/42/gid_map\", \"0 1000 1\")",
                Errno::EPERM,
                "setgroups",
            ),
            (
                &format!("child: {}", crate::namespace::mount::MAKE_PRIVATE),
                Errno::EPERM,
                "propagation",
            ),
            (
                &format!("child: {}", crate::namespace::mount::MOUNT_PROC),
                Errno::EPERM,
                "fully visible",
            ),
            (
                &format!("child: {}", crate::namespace::net::SET_FLAGS),
                Errno::EPERM,
                "CAP_NET_ADMIN",
            ),
        ];
        for (call, errno, needle) in cases {
            let m = message(call, errno);
            assert!(m.contains(needle), "{call}: no {needle:?} in {m}");
        }
    }
}
