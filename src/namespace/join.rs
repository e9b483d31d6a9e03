//! Joining namespaces that exist: setns(2), in the launcher, before clone.
//!
//! A process enters an existing namespace with setns(2), given a descriptor
//! that refers to it: a file of `/proc/PID/ns/`, a namespace file kept by a
//! bind mount ([`super::keep`]), or, since Linux 5.8, a pidfd of a process
//! (pidfd_open(2)), which joins that process's namespaces of several types
//! in one call, all of them or none. That is how `nsenter` and `docker
//! exec` get into a running container.
//!
//! # Why the command is a new child
//! setns(2) acts on the calling thread, and for a PID namespace it does not
//! even move that: a process's PID never changes, so joining one changes
//! only `pid_for_children`, the namespace its *next* children are born in
//! (pid_namespaces(7)). So nsclone joins in the launcher, then clones: the
//! child is born in every joined namespace, PID included, as nsenter forks
//! after its setns calls. New namespaces asked for at the same time are
//! then created by that clone, inside the joined ones, and owned by the
//! joined user namespace if one was joined.
//!
//! # Which namespaces, and in what order
//! - `--join PID`: every namespace of that process that is not already the
//!   launcher's (the launcher's `pid_for_children` and `time_for_children`
//!   for those two types), but the types asked anew: one
//!   `setns(pidfd, CLONE_NEW...|...)`, in which the kernel joins the user
//!   namespace first and checks the others against it.
//! - `--join DIR`: each namespace file of DIR (`DIR/uts`, `DIR/net`...,
//!   named as in `/proc/PID/ns`), checked first with ioctl(2)
//!   `NS_GET_NSTYPE`, one setns(2) each. The order is ours to choose, and it
//!   matters: a namespace is joined with `CAP_SYS_ADMIN` in the user
//!   namespace that owns it. An unprivileged caller has it only once it is
//!   in the joined user namespace, so it joins that one *first*; root has it
//!   already over every namespace below its own, and would lose it over the
//!   others by entering a user namespace, so it joins the user namespace
//!   *last*. (nsenter tries the others, then the user namespace, then the
//!   others again.)
//!
//! Joining a mount namespace also moves the caller's root and working
//! directory to the root of that namespace: the command starts in its `/`,
//! and finds its program there.
//!
//! # Back again
//! The launcher returns to its own namespaces right after clone, from
//! descriptors of them opened before joining ([`Saved`]), and to its working
//! directory: a library caller's thread is left as it was. Except after
//! joining a user namespace: no process may setns(2) into an ancestor of its
//! user namespace (it has no capability there any more), so a caller that
//! joined one stays in every joined namespace, for good. The kernel refuses
//! to move a multi-threaded process into a user or mount namespace (`EINVAL`:
//! threads share their credentials and their root), or into a time
//! namespace (`EUSERS`): joining those is refused beforehand.
//!
//! A PID namespace whose init (its PID 1) has exited takes no new process,
//! even while a kept file holds it: the clone into it fails with `ENOMEM`.

use alloc::string::ToString;
use alloc::vec::Vec;
use core::fmt;

use syscalls::Errno;

use crate::namespace::{Namespace, Namespaces, NsId, check_dir, ns_link, path_in};
use crate::strace::{ErrnoName, NsFlags};
use crate::sys::{self, Fd, Pid};
use crate::text::Quoted;

/// What to join: a process's namespaces, or the namespace files in a
/// directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The namespaces of the process with this pid.
    Pid(Pid),
    /// The namespace files in this directory (`DIR/uts`, `DIR/net`...).
    Dir(Vec<u8>),
}

/// A target looked at: the descriptors to join through, and the types.
#[derive(Debug)]
pub struct Join {
    target: Target,
    source: Source,
    types: Namespaces,
    /// Whether the user namespace is joined before the others.
    user_first: bool,
}

/// Where the namespaces are joined from.
#[derive(Debug)]
enum Source {
    /// A pidfd: one setns(2) for every type.
    Pidfd(Fd),
    /// One namespace file per type, in [`Namespace::ALL`]'s order.
    Files(Vec<(Namespace, Fd)>),
}

/// A step of joining, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// pidfd_open(2) of the target.
    PidfdOpen,
    /// Looking up a namespace of the target, or our own.
    Lookup(Namespace),
    /// Looking at the directory.
    Dir,
    /// Opening a file of the directory.
    Open(Namespace),
    /// The file is not a namespace file.
    NotNamespace(Namespace),
    /// The file holds a namespace of another type (its flag).
    WrongType(Namespace, i32),
    /// The directory holds no namespace file.
    Empty,
    /// Opening our own namespace, to return to it.
    Save(Namespace),
    /// setns(2) into these.
    Setns(Namespaces),
    /// Clone into a joined PID namespace whose init has exited.
    DeadPidNamespace,
    /// setns(2) back into our own.
    Restore(Namespace),
}

/// A failed step of joining: what it was about, and the kernel's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    /// The target.
    pub target: Target,
    /// The step.
    pub step: Step,
    /// What the kernel answered, if a call failed.
    pub errno: Option<Errno>,
}

/// `/proc/PID/ns/NAME` of the caller for the namespace its next child
/// enters: `pid_for_children` and `time_for_children` for those types.
fn own_link(ns: Namespace) -> &'static core::ffi::CStr {
    match ns {
        Namespace::Pid => c"/proc/self/ns/pid_for_children",
        Namespace::Time => c"/proc/self/ns/time_for_children",
        _ => ns.names().self_link,
    }
}

/// The identity of the caller's namespace of type `ns`, as its next child
/// would have it.
fn own(ns: Namespace) -> Result<NsId, Errno> {
    sys::stat(own_link(ns)).map(|st| NsId::from_stat(&st))
}

impl Target {
    /// The failure of `step` on this target, with the kernel's answer.
    pub fn failed(&self, step: Step) -> impl Fn(Errno) -> Failed + '_ {
        move |errno| Failed {
            target: self.clone(),
            step,
            errno: Some(errno),
        }
    }

    /// Look at what would be joined, changing nothing: open the target,
    /// and find the types whose namespace is not the caller's, leaving out
    /// those in `new`, which the command gets new.
    pub fn look(&self, new: Namespaces) -> Result<Join, Failed> {
        let user_first = sys::geteuid() != 0;
        match self {
            Target::Pid(pid) => {
                let pidfd = sys::pidfd_open(*pid).map_err(self.failed(Step::PidfdOpen))?;
                let mut types = Namespaces::EMPTY;
                for ns in Namespace::ALL.into_iter().filter(|&ns| !new.contains(ns)) {
                    let theirs = match sys::stat(&ns_link(*pid, ns)) {
                        Ok(st) => NsId::from_stat(&st),
                        // A type this kernel does not have.
                        Err(Errno::ENOENT) if !sys_has(ns) => continue,
                        Err(errno) => return Err(self.failed(Step::Lookup(ns))(errno)),
                    };
                    if own(ns).map_err(self.failed(Step::Lookup(ns)))? != theirs {
                        types = types.with(ns);
                    }
                }
                Ok(Join {
                    target: self.clone(),
                    source: Source::Pidfd(pidfd),
                    types,
                    user_first,
                })
            }
            Target::Dir(dir) => {
                check_dir(dir).map_err(self.failed(Step::Dir))?;
                let mut files = Vec::new();
                let mut types = Namespaces::EMPTY;
                for ns in Namespace::ALL.into_iter().filter(|&ns| !new.contains(ns)) {
                    let path = path_in(dir, ns.name());
                    let why = "a namespace file kept with --keep, to join with setns(2)";
                    let file = match sys::open(&path, libc::O_RDONLY, why) {
                        Ok(file) => file,
                        Err(Errno::ENOENT) => continue,
                        Err(errno) => return Err(self.failed(Step::Open(ns))(errno)),
                    };
                    match sys::ioctl_ns_type(
                        file.raw(),
                        "is it a namespace file, and of the type its name says?",
                    ) {
                        Ok(flag) if flag == ns.flag() => {}
                        Ok(flag) => {
                            return Err(self.failed(Step::WrongType(ns, flag))(Errno::EINVAL));
                        }
                        Err(errno) => return Err(self.failed(Step::NotNamespace(ns))(errno)),
                    }
                    let theirs = NsId::from_stat(
                        &sys::fstat(file.raw()).map_err(self.failed(Step::Open(ns)))?,
                    );
                    if own(ns).map_err(self.failed(Step::Lookup(ns)))? != theirs {
                        types = types.with(ns);
                        files.push((ns, file));
                    }
                }
                if files.is_empty() {
                    // Either nothing at all, or only our own namespaces.
                    let any = Namespace::ALL
                        .into_iter()
                        .any(|ns| sys::stat(&path_in(dir, ns.name())).is_ok());
                    if !any {
                        return Err(Failed {
                            target: self.clone(),
                            step: Step::Empty,
                            errno: None,
                        });
                    }
                }
                Ok(Join {
                    target: self.clone(),
                    source: Source::Files(files),
                    types,
                    user_first,
                })
            }
        }
    }
}

/// Whether this kernel has namespaces of type `ns`: its link in
/// `/proc/self/ns` exists.
fn sys_has(ns: Namespace) -> bool {
    sys::stat(ns.names().self_link).is_ok()
}

impl Join {
    /// The types joined.
    pub fn types(&self) -> Namespaces {
        self.types
    }

    /// What was joined, for messages.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Open the caller's own namespaces of the joined types, to return to
    /// them after clone, and its working directory if a mount namespace is
    /// joined. After a user namespace there is no way back (see the module
    /// documentation): then only the root directory is kept, to return to
    /// our own files, and so to our own `/proc`, with chroot(2).
    pub fn save(&self) -> Result<Saved, Failed> {
        let failed = |ns| self.target.failed(Step::Save(ns));
        let mut saved = Saved {
            files: Vec::new(),
            root: None,
            cwd: None,
        };
        let for_good = self.types.contains(Namespace::User);
        if !for_good {
            for ns in self.types.iter() {
                let why = "our own, to return to it once the child is cloned";
                let file = sys::open(own_link(ns), libc::O_RDONLY, why).map_err(failed(ns))?;
                saved.files.push((ns, file));
            }
        }
        if self.types.contains(Namespace::Mount) {
            let flags = libc::O_PATH | libc::O_DIRECTORY;
            if for_good {
                let why = "our root: a directory of our mount namespace, to come back to \
                           with chroot(2) from the joined one";
                saved.root = Some(sys::open(c"/", flags, why).map_err(failed(Namespace::Mount))?);
            }
            let why = "our working directory: joining a mount namespace moves it to that `/`";
            saved.cwd = Some(sys::open(c".", flags, why).map_err(failed(Namespace::Mount))?);
        }
        Ok(saved)
    }

    /// Join, in the launcher, before clone.
    pub fn enter(&self) -> Result<(), Failed> {
        let failed = |types| self.target.failed(Step::Setns(types));
        match &self.source {
            Source::Pidfd(_) if self.types.is_empty() => Ok(()),
            Source::Pidfd(pidfd) => {
                let why = "all at once, or none; the PID namespace only for our children";
                sys::setns(pidfd.raw(), self.types.flags(), why).map_err(failed(self.types))
            }
            Source::Files(files) => {
                let user = |&&(ns, _): &&(Namespace, Fd)| ns == Namespace::User;
                let (users, others): (Vec<_>, Vec<_>) = files.iter().partition(user);
                let order = match self.user_first {
                    true => users.into_iter().chain(others),
                    false => others.into_iter().chain(users),
                };
                for (ns, file) in order {
                    let why = match (ns, self.user_first) {
                        (Namespace::User, true) => {
                            "first: its capabilities are what lets us join the others"
                        }
                        (Namespace::User, false) => {
                            "last: entering it would cost us our rights over the others"
                        }
                        (Namespace::Pid, _) => "only for our children: our own pid stays",
                        (Namespace::Mount, _) => "and our root and cwd become its /",
                        _ => "one file, one type: the type checked when it was opened",
                    };
                    let only = Namespaces::EMPTY.with(*ns);
                    sys::setns(file.raw(), ns.flag(), why).map_err(failed(only))?;
                }
                Ok(())
            }
        }
    }
}

/// The caller's own namespaces of the joined types, and its root and
/// working directory, to return to after clone ([`Saved::restore`]).
/// Dropping it restores too, ignoring errors: that covers a failure between
/// joining and clone.
#[derive(Debug)]
#[must_use = "the caller's namespaces are restored when this is dropped"]
pub struct Saved {
    files: Vec<(Namespace, Fd)>,
    root: Option<Fd>,
    cwd: Option<Fd>,
}

impl Saved {
    /// Return to the saved namespaces, root and working directory.
    pub fn restore(mut self) -> Result<(), (Namespace, Errno)> {
        self.back()
    }

    fn back(&mut self) -> Result<(), (Namespace, Errno)> {
        let mut result = Ok(());
        for (ns, file) in self.files.drain(..) {
            let why = "back to our own, now that the child is born";
            if let Err(errno) = sys::setns(file.raw(), ns.flag(), why) {
                result = result.and(Err((ns, errno)));
            }
        }
        if let Some(root) = self.root.take() {
            // A process may hold a directory of another mount namespace and
            // make it its root: exactly why setns(2) into a mount namespace
            // asks for CAP_SYS_CHROOT. Here it brings back our own files.
            let why = "our old root, kept open: a directory of our own mount namespace";
            let back = sys::fchdir(root.raw(), why).and_then(|()| {
                sys::chroot(c".", "our own files again, /proc included: no way back to our mount namespace from the joined user namespace")
            });
            if let Err(errno) = back {
                result = result.and(Err((Namespace::Mount, errno)));
            }
        }
        if let Some(cwd) = self.cwd.take() {
            let why = "back to our working directory";
            if let Err(errno) = sys::fchdir(cwd.raw(), why) {
                result = result.and(Err((Namespace::Mount, errno)));
            }
        }
        result
    }
}

impl Drop for Saved {
    fn drop(&mut self) {
        let _ = self.back();
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Pid(pid) => write!(f, "--join {pid}"),
            Target::Dir(dir) => write!(f, "--join {}", Quoted(dir)),
        }
    }
}

impl fmt::Display for Failed {
    /// `--join 4242: pidfd_open(4242): ESRCH (No such process): no process
    /// has that pid (any more)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errno = |f: &mut fmt::Formatter<'_>| self::errno(f, self.errno);
        let file = |ns: Namespace| {
            let path = match &self.target {
                Target::Dir(dir) => path_in(dir, ns.name()),
                Target::Pid(pid) => ns_link(*pid, ns),
            };
            Quoted(path.as_bytes()).to_string()
        };
        write!(f, "{}: ", self.target)?;
        let hint = match (self.step, self.errno) {
            (Step::PidfdOpen, err) => {
                let pid = match self.target {
                    Target::Pid(pid) => pid,
                    Target::Dir(_) => 0,
                };
                write!(f, "pidfd_open({pid})")?;
                errno(f)?;
                match err {
                    Some(Errno::ESRCH) => "no process has that pid (any more)",
                    Some(Errno::EINVAL) => "not a valid pid",
                    Some(Errno::ENOSYS) => {
                        "pidfd_open(2) needs Linux 5.3, and setns(2) on a pidfd 5.8"
                    }
                    _ => "",
                }
            }
            (Step::Lookup(ns), errno) => {
                write!(f, "stat({})", file(ns))?;
                self::errno(f, errno)?;
                match errno {
                    Some(Errno::EACCES | Errno::EPERM) => {
                        "reading another user's namespaces needs the right to trace that \
                         process (ptrace(2) access mode), as root has"
                    }
                    _ => "",
                }
            }
            (Step::Dir, _) => {
                write!(f, "stat")?;
                errno(f)?;
                "give a pid, or a directory of namespace files kept with --keep"
            }
            (Step::Open(ns), _) => {
                write!(f, "open({})", file(ns))?;
                errno(f)?;
                ""
            }
            (Step::NotNamespace(ns), _) => {
                write!(
                    f,
                    "{} is not a namespace file (ioctl NS_GET_NSTYPE",
                    file(ns)
                )?;
                errno(f)?;
                f.write_str(")")?;
                "was it released (--unkeep), or never kept?"
            }
            (Step::WrongType(ns, flag), _) => {
                write!(
                    f,
                    "{} holds a namespace of type {}, not {}",
                    file(ns),
                    NsFlags(flag),
                    ns.flag_name()
                )?;
                ""
            }
            (Step::Empty, _) => {
                f.write_str(
                    "no namespace file in it (cgroup, ipc, mnt, net, pid, time, user, uts)",
                )?;
                "keep some there first: nsclone --keep DIR ..."
            }
            (Step::Save(ns), _) => {
                write!(f, "open(our own {ns} namespace)")?;
                errno(f)?;
                ""
            }
            (Step::Setns(types), err) => {
                match &self.target {
                    Target::Pid(_) => write!(f, "setns(pidfd, {})", NsFlags(types.flags()))?,
                    Target::Dir(_) => match types.iter().next() {
                        Some(ns) => write!(f, "setns({}, {})", file(ns), ns.flag_name())?,
                        None => f.write_str("setns")?,
                    },
                }
                errno(f)?;
                setns_hint(types, err)
            }
            (Step::DeadPidNamespace, _) => {
                f.write_str("clone into the joined PID namespace")?;
                errno(f)?;
                "its init (PID 1) has exited, and a PID namespace without init takes no new \
                 process, even while a kept file holds it"
            }
            (Step::Restore(ns), _) => {
                write!(f, "setns(back to our own {ns} namespace)")?;
                errno(f)?;
                ""
            }
        };
        if !hint.is_empty() {
            write!(f, ": {hint}")?;
        }
        Ok(())
    }
}

/// `: ERRNO (meaning)`, if there is one.
fn errno(f: &mut fmt::Formatter<'_>, errno: Option<Errno>) -> fmt::Result {
    match errno {
        Some(errno) => write!(f, ": {}", ErrnoName(errno)),
        None => Ok(()),
    }
}

/// The hint of a refused setns(2).
fn setns_hint(types: Namespaces, errno: Option<Errno>) -> &'static str {
    match errno {
        Some(Errno::EPERM) => {
            "joining a namespace needs CAP_SYS_ADMIN in the user namespace that owns it \
             (and, for a mount namespace, CAP_SYS_CHROOT): run as root, or join a user \
             namespace of yours with it (keep them with --user)"
        }
        Some(Errno::ESRCH) => "the process has exited",
        Some(Errno::EINVAL) if types.contains(Namespace::User) => {
            "a user namespace cannot be joined by a process with several threads, nor \
             re-entered"
        }
        Some(Errno::EINVAL) if types.contains(Namespace::Pid) => {
            "a PID namespace can be joined only if it lies below our own"
        }
        Some(Errno::EINVAL) if types.contains(Namespace::Mount) => {
            "a mount namespace cannot be joined by a process whose threads share its root"
        }
        Some(Errno::EUSERS) => {
            "a time namespace cannot be joined by a process with several threads"
        }
        _ => "",
    }
}
