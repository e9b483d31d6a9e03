//! What can go wrong while starting a command, and what to tell the user.
//!
//! Each error keeps the step that failed as a value (the launcher's
//! [`Step`], the child's [`ChildStep`], an id map, the exec) with the
//! errno the kernel answered; its message names the call and the errno,
//! and for the errors a learner is most likely to meet, adds a hint:
//!
//! ```text
//! clone(CLONE_NEWUTS|SIGCHLD): EPERM (Operation not permitted): creating namespaces needs ...
//! ```
//!
//! The exit status follows the conventions (GNU env, timeout, chroot;
//! util-linux): 127 when the command was not found, 126 when it could not
//! be executed, 125 for nsclone's own failures.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use syscalls::Errno;

use crate::child::{ChildStep, ReportError};
use crate::exec::{ExecFailure, Reason};
use crate::namespace::root::{self, Refused as RootRefused};
use crate::namespace::time::{self, OffsetRefused};
use crate::namespace::user::{MapFailed, MapFile};
use crate::namespace::{Hostname, Namespace};
use crate::namespace::{join, keep};
use crate::strace::{CloneFlags, ErrnoName};
use crate::sys::Pid;
use crate::text::Quoted;
use crate::wait::EXIT_LAUNCHER;

/// Everything that can go wrong while starting a command.
#[derive(Debug)]
pub enum Error {
    /// An argument contains a NUL byte, which execve(2) cannot pass.
    Nul(Vec<u8>),
    /// Vfork style was asked together with something it cannot serve,
    /// because the parent sleeps until the child has exec'd.
    Vfork(Vfork),
    /// Refused before anything was changed: this kernel, this caller or
    /// these offsets cannot do what was asked.
    Refused(Refusal),
    /// A system call of the launcher failed.
    Launcher {
        /// The step it was made for.
        step: Step,
        /// What the kernel answered.
        errno: Errno,
    },
    /// The launcher could not write the child's id maps.
    Map(MapFailed),
    /// A step of the child failed, before exec.
    Child {
        /// The step.
        step: ChildStep,
        /// What the kernel answered; `None` for a check of the child's own
        /// (a namespace that is the parent's, a parent that died).
        errno: Option<Errno>,
    },
    /// The child's sethostname failed.
    Sethostname {
        /// The name it tried to set.
        name: Hostname,
        /// What the kernel answered.
        errno: Errno,
    },
    /// The command could not be executed.
    Exec {
        /// The command's name, as given.
        program: Vec<u8>,
        /// The path whose execve decided the outcome, if any was tried.
        path: Option<Vec<u8>>,
        /// The child's report (boxed: it holds the first bytes of the file).
        failure: Box<ExecFailure>,
    },
    /// The child's report could not be read.
    Report(ReportError),
    /// `--root DIR` ([`crate::Command::root`]) was refused before anything
    /// was made, or a step of the child failed on the way into it.
    Root {
        /// DIR, as given.
        dir: Vec<u8>,
        /// What went wrong.
        failure: RootFailure,
    },
    /// Joining existing namespaces failed ([`crate::namespace::join`]).
    Join(join::Failed),
    /// Keeping or releasing namespaces failed ([`crate::namespace::keep`]).
    Keep(keep::Failed),
}

/// What went wrong with a new root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootFailure {
    /// The parent's check refused DIR.
    Refused(RootRefused),
    /// A step of the child failed, with this errno.
    Step(root::Step, Errno),
}

/// What vfork style cannot serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vfork {
    /// Acting in the parent before exec ([`crate::Command::spawn_with`]).
    BeforeExec,
    /// A user namespace, whose id maps the parent writes before exec.
    User,
    /// A time namespace before Linux 6.2, which the child would enter only
    /// at execve, which older kernels do not do.
    TimeBefore62,
    /// Keeping namespaces, which the parent opens while the child is held.
    Keep,
}

/// Why a request was refused before anything was changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The launcher makes the time namespace, and has several threads.
    TimeThreads,
    /// The launcher's `time_for_children` is already another namespace.
    TimeForChildrenTaken,
    /// With a user namespace, the child makes the time namespace and enters
    /// it at execve, which Linux does only since 6.2.
    TimeUserBefore62,
    /// A clock offset out of the kernel's range.
    Offset(OffsetRefused),
    /// `/proc` is not mounted, and this needs it.
    NoProc(&'static str),
    /// Joining a namespace of this type needs a single-threaded caller.
    JoinThreads(Namespace),
    /// A time namespace made by the launcher, after joining a user
    /// namespace it cannot leave.
    JoinUserTime,
    /// Keeping namespaces needs a mount in the caller's namespace: root.
    KeepNotRoot,
    /// Keeping after joining a user namespace, which leaves no right to
    /// mount in the caller's mount namespace.
    KeepJoinedUser,
    /// Keeping with a time namespace the child makes after the others are
    /// opened.
    KeepUserTime,
}

/// The launcher's steps whose system calls may fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Looking up the identity of its own namespace of this type.
    Identity(Namespace),
    /// The report pipe.
    ReportPipe,
    /// The hold pipe.
    HoldPipe,
    /// Mapping the child's stack.
    Stack,
    /// Its time namespace for children.
    Time(time::Step),
    /// Blocking signals around clone.
    SignalMask,
    /// Taking SIGCHLD back from "ignored".
    TakeBackSigchld,
    /// clone(2), with these flags.
    Clone(u64),
    /// Waiting for the child.
    Wait(Pid),
}

impl Error {
    /// The exit status nsclone ends with for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Exec { failure, .. } => failure.exit_code(),
            _ => EXIT_LAUNCHER,
        }
    }
}

/// Why unprivileged user namespaces may be refused, for hints.
const USERNS_RESTRICTED: &str = "the kernel refused an unprivileged user namespace: \
    they may be disabled (sysctl user.max_user_namespaces=0, or \
    kernel.unprivileged_userns_clone=0 on Debian-patched kernels) or restricted \
    by the distribution (AppArmor on Ubuntu 23.10+: \
    kernel.apparmor_restrict_unprivileged_userns=1); run as root instead";

/// The hints for the time namespace's offsets, by errno.
fn offsets_hint(errno: Errno) -> Option<&'static str> {
    match errno {
        Errno::EPERM => Some(
            "clock offsets need CAP_SYS_TIME in the user namespace that owns the time namespace",
        ),
        Errno::ERANGE => {
            Some("an offset may not make a clock negative, nor push it past about 146 years")
        }
        Errno::EACCES => Some("offsets can only be set while no process is in the time namespace"),
        _ => None,
    }
}

/// The hint of a failed launcher step.
fn launcher_hint(step: Step, errno: Errno) -> Option<&'static str> {
    let user = |flags: u64| flags & libc::CLONE_NEWUSER as u64 != 0;
    match (step, errno) {
        (Step::Clone(flags), Errno::EPERM | Errno::EACCES) if user(flags) => {
            Some(USERNS_RESTRICTED)
        }
        (Step::Clone(_), Errno::EPERM) => Some(
            "creating namespaces needs CAP_SYS_ADMIN: run nsclone as root (sudo), \
             or add --user (-U) to create them inside a user namespace of your own",
        ),
        (Step::Clone(_), Errno::ENOMEM | Errno::EAGAIN) => {
            Some("the system is out of memory or processes (see ulimit -u)")
        }
        (Step::Clone(flags), Errno::ENOSPC) if user(flags) => Some(
            "too many user namespaces, or none allowed: see /proc/sys/user/max_user_namespaces \
             (0 disables them) and the nesting limit of 32",
        ),
        (Step::Clone(_), Errno::ENOSPC) => {
            Some("too many namespaces of this type exist (see /proc/sys/user/max_*_namespaces)")
        }
        (Step::Time(time::Step::Unshare), Errno::EPERM) => Some(
            "a time namespace needs CAP_SYS_ADMIN: run nsclone as root (sudo), or add \
             --user (-U), and the child creates it inside its own user namespace",
        ),
        (Step::Time(time::Step::Unshare), Errno::EINVAL) => Some(NO_TIME_NAMESPACES),
        (Step::Time(time::Step::Offsets), errno) => offsets_hint(errno),
        (Step::Identity(_), Errno::ENOENT | Errno::ENOTTY | Errno::EINVAL) => Some(NO_PROC),
        _ => None,
    }
}

const NO_TIME_NAMESPACES: &str =
    "this kernel has no time namespaces (they need Linux 5.6+ with CONFIG_TIME_NS)";

const NO_PROC: &str = "/proc is not mounted, and this kernel cannot tell a namespace \
    through a pidfd either (Linux 6.11+): mount /proc";

/// The hint of a failed child step.
fn child_hint(step: ChildStep, errno: Errno) -> Option<&'static str> {
    match (step, errno) {
        (ChildStep::UnshareTime, Errno::EPERM) => Some(USERNS_RESTRICTED),
        (ChildStep::UnshareTime, Errno::EINVAL) => Some(NO_TIME_NAMESPACES),
        (ChildStep::TimeOffsets, errno) => offsets_hint(errno),
        (ChildStep::MakePrivate, Errno::EPERM) => Some(
            "changing mount propagation needs CAP_SYS_ADMIN in the user namespace that owns \
             the mount namespace",
        ),
        (ChildStep::MakePrivate, Errno::EINVAL) => Some(
            "/ is not a mount point: nsclone runs chroot'ed into a directory, where the \
             propagation of / cannot be changed (nor can pivot_root pivot away from it)",
        ),
        (ChildStep::MountProc, Errno::EPERM) => Some(
            "mounting proc needs CAP_SYS_ADMIN over the PID namespace; inside a user namespace \
             the kernel also wants a fully visible /proc on the host (none of its files hidden \
             by over-mounts, as container runtimes do)",
        ),
        (ChildStep::LoopbackUp, Errno::EPERM | Errno::EACCES) => Some(
            "bringing lo up needs CAP_NET_ADMIN in the user namespace that owns the network \
             namespace",
        ),
        (
            ChildStep::UtsIdentity | ChildStep::MntIdentity | ChildStep::NetIdentity,
            Errno::ENOENT | Errno::ENOTTY | Errno::EINVAL,
        ) => Some(NO_PROC),
        _ => None,
    }
}

/// The hint of a failed step on the way into a new root.
fn root_hint(step: root::Step, errno: Errno) -> Option<&'static str> {
    use root::Step::*;
    match (step, errno) {
        (Bind | PivotRoot | Detach, Errno::EPERM) => Some(
            "bind mounts, pivot_root and umount2 need CAP_SYS_ADMIN in the user namespace \
             that owns the mount namespace: run as root, or add --user",
        ),
        (Bind | Chdir, Errno::EACCES) => Some(
            "the invoking user must be able to search every directory on the way to DIR \
             (with --user too: on the host, the child is still you)",
        ),
        (Bind, Errno::EINVAL) => Some("DIR lies on a mount that cannot be bound (MS_UNBINDABLE)"),
        (MountProc, Errno::EPERM) => Some(
            "mounting proc needs CAP_SYS_ADMIN over the PID namespace; inside a user namespace \
             the kernel also wants a fully visible /proc on the host (none of its files hidden \
             by over-mounts, as container runtimes do); without --pid and --mount-proc, \
             --root mounts no proc",
        ),
        (PivotRoot, Errno::EINVAL) => Some(
            "the kernel refused DIR as a root: the current root is not a mount point (is \
             nsclone running chroot'ed?), or it is the initramfs (rootfs cannot be pivoted \
             away: such systems use switch_root), or a mount on the way is shared",
        ),
        (PivotRoot, Errno::EBUSY) => Some("DIR is the current root already"),
        _ => None,
    }
}

/// The call a launcher step makes, as messages name it.
struct Call(Step);

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Step::Identity(ns) => write!(f, "stat(\"/proc/self/ns/{ns}\")"),
            Step::ReportPipe => f.write_str("pipe2(report pipe)"),
            Step::HoldPipe => f.write_str("pipe2(hold pipe)"),
            Step::Stack => f.write_str("mmap(child stack)"),
            Step::Time(time::Step::OpenForChildren) => {
                f.write_str("open(\"/proc/self/ns/time_for_children\")")
            }
            Step::Time(time::Step::Unshare) => f.write_str("unshare(CLONE_NEWTIME)"),
            Step::Time(time::Step::Offsets) => f.write_str("write(\"/proc/self/timens_offsets\")"),
            Step::Time(time::Step::Restore) => {
                f.write_str("setns(time_for_children, CLONE_NEWTIME)")
            }
            Step::SignalMask => f.write_str("rt_sigprocmask"),
            Step::TakeBackSigchld => f.write_str("rt_sigaction(SIGCHLD)"),
            Step::Clone(flags) => write!(f, "clone({})", CloneFlags(flags)),
            Step::Wait(pid) => write!(f, "wait4({pid})"),
        }
    }
}

/// `: HINT`, if there is one.
fn hint(f: &mut fmt::Formatter<'_>, hint: Option<&str>) -> fmt::Result {
    match hint {
        Some(hint) => write!(f, ": {hint}"),
        None => Ok(()),
    }
}

impl fmt::Display for Vfork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Vfork::BeforeExec => "acting in the parent before exec (--show-ns)",
            Vfork::User => "a user namespace: the parent writes its uid and gid maps before exec",
            Vfork::TimeBefore62 => {
                "a time namespace before Linux 6.2: the child would enter it only at \
                 execve, which older kernels do not do"
            }
            Vfork::Keep => "keeping namespaces (--keep): the parent opens them before exec",
        })
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::TimeThreads => f.write_str(
                "cannot do that here: a time namespace without --user is made by the \
                 launcher, which must have a single thread (timens_offsets and setns(2) act \
                 on the whole process)",
            ),
            Refusal::TimeForChildrenTaken => f.write_str(
                "cannot do that here: the launcher already has a time_for_children of its own",
            ),
            Refusal::TimeUserBefore62 => f.write_str(
                "cannot do that here: with --user, the child creates the time namespace and \
                 enters it at execve, which Linux does only since 6.2; run as root without \
                 --user instead",
            ),
            Refusal::Offset(refused) => refused.fmt(f),
            Refusal::NoProc(what) => write!(f, "{what}: /proc is not mounted"),
            Refusal::JoinThreads(ns) => write!(
                f,
                "cannot join a {ns} namespace from a process with several threads: the \
                 kernel refuses it ({}), since threads share their {}",
                match ns {
                    Namespace::Time => "EUSERS",
                    _ => "EINVAL",
                },
                match ns {
                    Namespace::User => "credentials",
                    Namespace::Mount => "root and working directory",
                    _ => "clocks",
                }
            ),
            Refusal::JoinUserTime => f.write_str(
                "--time without --user is made by nsclone itself, which cannot return to its \
                 own time namespace from a joined user namespace: add --user",
            ),
            Refusal::KeepNotRoot => f.write_str(
                "--keep bind-mounts the namespaces in your mount namespace, which needs \
                 CAP_SYS_ADMIN over it: run as root, or inside a mount namespace of your own \
                 (unshare --user --map-root-user --mount), where the files are then seen",
            ),
            Refusal::KeepJoinedUser => f.write_str(
                "--keep after joining a user namespace: there is no way back from it, and \
                 from inside it nsclone may not mount in your mount namespace",
            ),
            Refusal::KeepUserTime => f.write_str(
                "--keep with --user --time: the child makes its time namespace after the \
                 others are opened to be kept; keep without --time, or as root without --user",
            ),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Nul(s) => write!(
                f,
                "{}: arguments and environment cannot contain NUL bytes",
                Quoted(s)
            ),
            Error::Vfork(what) => write!(
                f,
                "vfork style cannot serve {what}: the parent sleeps until the command \
                 has exec'd (use the default fork style)"
            ),
            Error::Refused(refusal) => refusal.fmt(f),
            Error::Launcher { step, errno } => {
                write!(f, "{}: {}", Call(*step), ErrnoName(*errno))?;
                hint(f, launcher_hint(*step, *errno))
            }
            Error::Map(failed) => {
                write!(f, "{failed}: {}", ErrnoName(failed.errno))?;
                let map = matches!(failed.file, MapFile::UidMap | MapFile::GidMap);
                hint(
                    f,
                    (map && failed.errno == Errno::EPERM).then_some(
                        "the kernel refused the map: without CAP_SETUID/CAP_SETGID over the \
                         parent user namespace, a process may map only its own effective id, \
                         once, and gid_map only after setgroups is denied",
                    ),
                )
            }
            Error::Child { step, errno: None } => match step.not_new() {
                Some(ns) => write!(
                    f,
                    "child: refusing to change its {ns} namespace: it is the parent's, \
                     so the host's {} would change",
                    ns.isolates()
                ),
                None => f.write_str(
                    "child: the parent died before the parent-death signal was armed \
                     (getppid), so the command does not run",
                ),
            },
            Error::Child {
                step,
                errno: Some(errno),
            } => {
                write!(f, "child: {}: {}", step.call(), ErrnoName(*errno))?;
                hint(f, child_hint(*step, *errno))
            }
            Error::Sethostname { name, errno } => {
                write!(f, "sethostname({name}): {}", ErrnoName(*errno))?;
                hint(
                    f,
                    match *errno {
                        Errno::EINVAL => Some("hostnames are at most 64 bytes"),
                        Errno::EPERM => Some(
                            "needs CAP_SYS_ADMIN in the user namespace that owns the UTS \
                             namespace (with --user, a distribution that restricts \
                             unprivileged user namespaces, such as Ubuntu 23.10+ with \
                             AppArmor, leaves the child without capabilities)",
                        ),
                        _ => None,
                    },
                )
            }
            Error::Exec {
                program,
                path,
                failure,
            } => {
                let errno = ErrnoName(failure.errno);
                match path {
                    Some(path) if failure.exit_code() != crate::wait::EXIT_NOT_FOUND => {
                        write!(f, "execve({}): {errno}: {}", Quoted(path), Reason(failure))
                    }
                    _ => write!(
                        f,
                        "execvp({}): {errno}: {}",
                        Quoted(program),
                        Reason(failure)
                    ),
                }
            }
            Error::Root {
                dir,
                failure: RootFailure::Step(step, errno),
            } => {
                write!(
                    f,
                    "child: {}: {}",
                    root::Call(*step, dir),
                    ErrnoName(*errno)
                )?;
                hint(f, root_hint(*step, *errno))
            }
            Error::Root {
                dir,
                failure: RootFailure::Refused(refused),
            } => {
                write!(f, "--root {}: ", Quoted(dir))?;
                match refused {
                    RootRefused::Stat(errno) => write!(
                        f,
                        "{}: the new root must be an existing directory",
                        ErrnoName(*errno)
                    ),
                    RootRefused::NotDirectory(mode) => write!(
                        f,
                        "{}, not a directory: the new root must be a directory holding \
                         the command and what it needs",
                        root::kind(*mode)
                    ),
                    RootRefused::AlreadyRoot => f.write_str(
                        "this is the current root already: pivot_root(2) cannot make it the \
                         new one (EBUSY); give the directory of another tree",
                    ),
                    RootRefused::ProcDir(errno) => {
                        write!(f, "{}", Quoted(root::proc_dir(dir).as_bytes()))?;
                        match errno {
                            Some(errno) => write!(f, ": {}", ErrnoName(*errno))?,
                            None => f.write_str(" is not a directory")?,
                        }
                        f.write_str(
                            ": with a new PID namespace a fresh /proc is mounted there; \
                             create the directory (or leave out --pid and --mount-proc)",
                        )
                    }
                }
            }
            Error::Report(ReportError::Read(errno)) => {
                write!(f, "read(report pipe): {}", ErrnoName(*errno))
            }
            Error::Report(ReportError::Garbled(len)) => write!(
                f,
                "read(report pipe): the child's report is garbled ({len} bytes)"
            ),
            Error::Join(failed) => failed.fmt(f),
            Error::Keep(failed) => failed.fmt(f),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn launcher(step: Step, errno: Errno) -> String {
        Error::Launcher { step, errno }.to_string()
    }

    fn child(step: ChildStep, errno: Errno) -> String {
        Error::Child {
            step,
            errno: Some(errno),
        }
        .to_string()
    }

    #[test]
    fn messages_name_the_call_and_the_errno() {
        let m = launcher(Step::Time(time::Step::Unshare), Errno::EPERM);
        assert!(
            m.starts_with("unshare(CLONE_NEWTIME): EPERM (Operation not permitted): "),
            "{m}"
        );
    }

    #[test]
    fn clone_refusals_point_to_root_or_user() {
        let uts = (libc::CLONE_NEWUTS | libc::SIGCHLD) as u64;
        let pid = Step::Clone(uts | libc::CLONE_NEWPID as u64);
        let m = launcher(pid, Errno::EPERM);
        assert!(
            m.starts_with("clone(CLONE_NEWUTS|CLONE_NEWPID|SIGCHLD): EPERM"),
            "{m}"
        );
        assert!(m.contains("--user") && m.contains("root"), "{m}");
        let user = Step::Clone(uts | libc::CLONE_NEWUSER as u64);
        let m = launcher(user, Errno::EPERM);
        assert!(
            m.contains("AppArmor") && m.contains("max_user_namespaces"),
            "{m}"
        );
        assert!(launcher(user, Errno::ENOSPC).contains("max_user_namespaces"));
    }

    #[test]
    fn each_namespace_step_has_a_hint() {
        let map = |file| {
            Error::Map(MapFailed {
                file,
                pid: 42,
                id: 1000,
                errno: Errno::EPERM,
            })
            .to_string()
        };
        let cases = [
            (
                launcher(Step::Time(time::Step::Unshare), Errno::EPERM),
                "--user",
            ),
            (child(ChildStep::UnshareTime, Errno::EPERM), "AppArmor"),
            (
                launcher(Step::Time(time::Step::Offsets), Errno::EPERM),
                "CAP_SYS_TIME",
            ),
            (child(ChildStep::TimeOffsets, Errno::ERANGE), "negative"),
            (map(MapFile::UidMap), "own"),
            (map(MapFile::GidMap), "setgroups"),
            (child(ChildStep::MakePrivate, Errno::EPERM), "propagation"),
            (child(ChildStep::MountProc, Errno::EPERM), "fully visible"),
            (child(ChildStep::LoopbackUp, Errno::EPERM), "CAP_NET_ADMIN"),
            (child(ChildStep::UtsIdentity, Errno::ENOENT), "mount /proc"),
        ];
        for (message, needle) in cases {
            assert!(message.contains(needle), "no {needle:?} in {message}");
            assert!(!message.contains('\n'), "one line: {message}");
        }
    }

    #[test]
    fn root_failures_name_the_directory_the_step_and_the_reason() {
        let step = |step, errno| {
            Error::Root {
                dir: b"/srv/box".to_vec(),
                failure: RootFailure::Step(step, errno),
            }
            .to_string()
        };
        let m = step(root::Step::PivotRoot, Errno::EINVAL);
        assert!(
            m.starts_with("child: pivot_root(\".\", \".\"): EINVAL (Invalid argument): "),
            "{m}"
        );
        assert!(m.contains("chroot") && m.contains("initramfs"), "{m}");
        let m = step(root::Step::Bind, Errno::EPERM);
        assert!(
            m.starts_with("child: mount(\"/srv/box\", \"/srv/box\", NULL, MS_BIND|MS_REC"),
            "{m}"
        );
        assert!(m.contains("CAP_SYS_ADMIN"), "{m}");
        let m = step(root::Step::MountProc, Errno::EPERM);
        assert!(
            m.contains("\"/srv/box/proc\"") && m.contains("fully visible"),
            "{m}"
        );
        let refused = |refused| {
            Error::Root {
                dir: b"/srv/box".to_vec(),
                failure: RootFailure::Refused(refused),
            }
            .to_string()
        };
        assert_eq!(
            refused(RootRefused::ProcDir(None)),
            "--root \"/srv/box\": \"/srv/box/proc\" is not a directory: with a new PID \
             namespace a fresh /proc is mounted there; create the directory (or leave out \
             --pid and --mount-proc)"
        );
        for message in [
            refused(RootRefused::Stat(Errno::EACCES)),
            refused(RootRefused::NotDirectory(libc::S_IFREG)),
            refused(RootRefused::AlreadyRoot),
            step(root::Step::Detach, Errno::EPERM),
        ] {
            assert!(message.starts_with("--root \"/srv/box\": ") || message.starts_with("child: "));
            assert!(!message.contains('\n'), "one line: {message}");
        }
    }

    #[test]
    fn a_namespace_that_is_the_parents_is_named() {
        let m = Error::Child {
            step: ChildStep::UtsNotNew,
            errno: None,
        }
        .to_string();
        assert_eq!(
            m,
            "child: refusing to change its uts namespace: it is the parent's, \
             so the host's hostname would change"
        );
    }
}
