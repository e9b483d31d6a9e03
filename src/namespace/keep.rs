//! Keeping namespaces alive with no process in them: bind mounts of their
//! files, as `ip netns add` and `unshare --uts=FILE` make.
//!
//! A namespace lives as long as something refers to it: a process in it,
//! an open descriptor of one of its files, or a bind mount of such a file
//! (namespaces(7)). When the last reference goes, the kernel frees it. So
//! `--keep DIR` makes the child's new namespaces outlive the command:
//!
//! 1. while the child is held, before it execs, the parent opens the
//!    child's `/proc/PID/ns/TYPE` of each new namespace: from then on the
//!    namespaces cannot die, even if the command exits at once;
//! 2. once the command runs, the parent creates an empty file `DIR/TYPE`
//!    (named as in `/proc/PID/ns`: `uts`, `net`, `mnt`...) and bind-mounts
//!    the open namespace onto it, through `/proc/self/fd/N`;
//! 3. the descriptors close; the bind mounts remain, in the parent's mount
//!    namespace, and a later `nsclone --join DIR` enters them.
//!
//! Why only once the command runs: a mount namespace cannot be bound where
//! the mount would propagate back into that same namespace, which would
//! then hold a mount of itself and never be freed: the kernel refuses with
//! `EINVAL`. A new mount namespace starts as a copy whose mounts are peers
//! of the parent's where those are shared (mount_namespaces(7)), and the
//! child makes them private only after the hold; by the time it execs, they
//! are, and the bind stays in the parent's namespace. (util-linux asks that
//! the target not be on a shared mount; `ip netns` makes its directory a
//! shared mount on purpose, which is harmless for network namespaces.)
//!
//! One more guard, against a namespace holding itself through a chain of
//! binds: a mount namespace file may be bound only from an *older* mount
//! namespace, and the kernel tells age by namespace ids. Measured on Linux
//! 6.18 with 2 CPUs: those ids come from per-CPU batches, so a child cloned
//! on the other CPU may get a smaller id than its parent's, and the bind
//! fails with `EINVAL` (util-linux's `unshare --mount=FILE` too) about half
//! the time when the keeper itself runs in a recent mount namespace. The
//! host's first mount namespace has the smallest id, and never fails so.
//!
//! The mounts go into the caller's mount namespace, which needs
//! `CAP_SYS_ADMIN` over it: root, or a user who made a mount namespace of
//! their own (`unshare -Urm`) and keeps the files in there. An unprivileged
//! user on the host can create user namespaces, but not mount in the
//! host's: `--keep` is refused.
//!
//! A kept PID namespace is a special case: keeping it keeps the namespace
//! object, but once its init (the command, its PID 1) has exited, no process
//! can be created in it again ([`super::join`] says so when asked).
//!
//! `--unkeep DIR` undoes it: for each namespace file in DIR, umount2(2) with
//! `MNT_DETACH`, then unlinkat(2) of the empty file. With the mount gone,
//! nothing refers to the namespace any more, and the kernel frees it.

use alloc::string::ToString;
use alloc::vec::Vec;
use core::fmt::{self, Write};

use syscalls::Errno;

use crate::namespace::{Namespace, Namespaces, check_dir, ns_link, path_in};
use crate::strace::ErrnoName;
use crate::sys::{self, Fd, Pid};
use crate::text::{FixedBuf, Quoted};

/// A step of keeping or releasing, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Looking at the directory.
    Dir,
    /// `DIR/TYPE` already keeps a namespace.
    Taken(Namespace),
    /// Looking at `DIR/TYPE`.
    Look(Namespace),
    /// Opening the child's namespace.
    OpenChild(Namespace),
    /// Creating `DIR/TYPE`.
    Create(Namespace),
    /// The bind mount.
    Bind(Namespace),
    /// The directory keeps nothing (`--unkeep`).
    Nothing,
    /// umount2(2) of `DIR/TYPE`.
    Umount(Namespace),
    /// unlinkat(2) of `DIR/TYPE`.
    Unlink(Namespace),
}

/// A failed step: which, where, and the kernel's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    /// The directory.
    pub dir: Vec<u8>,
    /// The step.
    pub step: Step,
    /// What the kernel answered, if a call failed.
    pub errno: Option<Errno>,
}

fn failed(dir: &[u8], step: Step) -> impl Fn(Errno) -> Failed + '_ {
    move |errno| Failed {
        dir: dir.to_vec(),
        step,
        errno: Some(errno),
    }
}

/// Check, before anything is created, that `dir` is a directory, and that
/// none of its files for `types` keeps a namespace already (another
/// `--keep` there would stack a second mount on it).
pub fn check(dir: &[u8], types: Namespaces) -> Result<(), Failed> {
    check_dir(dir).map_err(failed(dir, Step::Dir))?;
    for ns in types.iter() {
        if let Some(kept) = kept(dir, ns)? {
            drop(kept);
            return Err(Failed {
                dir: dir.to_vec(),
                step: Step::Taken(ns),
                errno: None,
            });
        }
    }
    Ok(())
}

/// `DIR/TYPE` open, if it is a namespace file (a bind mount of one, since
/// nsfs files appear nowhere else); `None` if missing or an ordinary file.
fn kept(dir: &[u8], ns: Namespace) -> Result<Option<Fd>, Failed> {
    let path = path_in(dir, ns.name());
    let why = "is it a namespace file, kept already?";
    let file = match sys::open(&path, libc::O_RDONLY, why) {
        Ok(file) => file,
        Err(Errno::ENOENT) => return Ok(None),
        Err(errno) => return Err(failed(dir, Step::Look(ns))(errno)),
    };
    Ok(
        sys::ioctl_ns_type(file.raw(), "is it a namespace file? then nsclone made it")
            .ok()
            .map(|_| file),
    )
}

/// The child's new namespaces, open: each descriptor keeps its namespace
/// alive until [`Opened::bind`] has bound it.
#[derive(Debug)]
pub struct Opened {
    files: Vec<(Namespace, Fd)>,
}

/// Open `/proc/PID/ns/TYPE` of the held child `pid` for each of `types`.
pub fn open_child(dir: &[u8], pid: Pid, types: Namespaces) -> Result<Opened, Failed> {
    let mut files = Vec::new();
    for ns in types.iter() {
        let why = "a reference: the namespace cannot die while this is open, \
                   even if the command exits at once";
        let file = sys::open(&ns_link(pid, ns), libc::O_RDONLY, why)
            .map_err(failed(dir, Step::OpenChild(ns)))?;
        files.push((ns, file));
    }
    Ok(Opened { files })
}

impl Opened {
    /// Bind each open namespace onto `DIR/TYPE`, creating the file if it is
    /// missing. On failure, what was made is undone.
    pub fn bind(self, dir: &[u8]) -> Result<(), Failed> {
        let mut made: Vec<(Namespace, bool)> = Vec::new();
        for (ns, file) in &self.files {
            match bind_one(dir, *ns, file) {
                Ok(created) => made.push((*ns, created)),
                Err((created, failure)) => {
                    made.push((*ns, created));
                    undo(dir, &made[..made.len() - 1], *ns, created);
                    return Err(failure);
                }
            }
        }
        Ok(())
    }
}

/// Create `DIR/TYPE` if needed and bind the namespace open as `file` on it;
/// returns whether the file was created (also on failure, for the undo).
fn bind_one(dir: &[u8], ns: Namespace, file: &Fd) -> Result<bool, (bool, Failed)> {
    let path = path_in(dir, ns.name());
    let why = "an empty file, where the namespace file will be bound";
    let flags = libc::O_RDONLY | libc::O_EXCL | libc::O_NOFOLLOW;
    let created = match sys::open_create(&path, flags, 0o444, why) {
        Ok(_) => true,
        // An ordinary file left there: bound over, as unshare does.
        Err(Errno::EEXIST) => false,
        Err(errno) => return Err((false, failed(dir, Step::Create(ns))(errno))),
    };
    let mut source = FixedBuf::<32>::new();
    let _ = write!(source, "/proc/self/fd/{}", file.raw());
    let source = source.c_str().unwrap_or_default();
    let why = "the bind mount is a reference: the namespace outlives the command";
    sys::mount_bind(source, &path, false, why)
        .map(|()| created)
        .map_err(|errno| (created, failed(dir, Step::Bind(ns))(errno)))
}

/// Undo the binds in `made`, then the file of the one that failed.
fn undo(dir: &[u8], made: &[(Namespace, bool)], failed_ns: Namespace, created: bool) {
    for &(ns, created) in made {
        let path = path_in(dir, ns.name());
        let _ = sys::umount2(&path, libc::MNT_DETACH, "undone: a later step failed");
        if created {
            let _ = sys::unlink(&path, "undone: we created it");
        }
    }
    if created {
        let _ = sys::unlink(&path_in(dir, failed_ns.name()), "undone: we created it");
    }
}

/// `--unkeep DIR`: unmount each namespace file kept in `dir` and remove the
/// file under it; returns the types released. Files that keep no namespace
/// are left alone.
pub fn unkeep(dir: &[u8]) -> Result<Namespaces, Failed> {
    check_dir(dir).map_err(failed(dir, Step::Dir))?;
    let mut released = Namespaces::EMPTY;
    for ns in Namespace::ALL {
        // Closed before the umount, so that the mount is the last reference.
        match kept(dir, ns)? {
            Some(file) => drop(file),
            None => continue,
        }
        let path = path_in(dir, ns.name());
        let why = "the last reference: without it the kernel frees the namespace";
        sys::umount2(&path, libc::MNT_DETACH, why).map_err(failed(dir, Step::Umount(ns)))?;
        let why = "the empty file the namespace was bound on";
        sys::unlink(&path, why).map_err(failed(dir, Step::Unlink(ns)))?;
        released = released.with(ns);
    }
    match released.is_empty() {
        true => Err(Failed {
            dir: dir.to_vec(),
            step: Step::Nothing,
            errno: None,
        }),
        false => Ok(released),
    }
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = |ns: Namespace| Quoted(path_in(&self.dir, ns.name()).to_bytes()).to_string();
        let hint = match self.step {
            Step::Dir => {
                write!(f, "stat({})", Quoted(&self.dir))?;
                "namespaces are kept in a directory that exists"
            }
            Step::Taken(ns) => {
                write!(f, "--keep: {} keeps a namespace already", file(ns))?;
                "release it first: nsclone --unkeep DIR"
            }
            Step::Look(ns) => {
                write!(f, "open({})", file(ns))?;
                ""
            }
            Step::OpenChild(ns) => {
                write!(f, "open(\"/proc/PID/ns/{ns}\")")?;
                ""
            }
            Step::Create(ns) => {
                write!(f, "open({}, O_CREAT)", file(ns))?;
                ""
            }
            Step::Bind(ns) => {
                write!(f, "mount(\"/proc/self/fd/N\", {}, MS_BIND)", file(ns))?;
                match self.errno {
                    Some(Errno::EPERM) => {
                        "a bind mount needs CAP_SYS_ADMIN over the caller's mount namespace"
                    }
                    Some(Errno::EINVAL) if ns == Namespace::Mount => {
                        "the kernel binds a mount namespace file only in an older mount \
                         namespace (a guard against loops), and judges age by namespace ids, \
                         which Linux 6.18 hands out per CPU, not in order: from a mount \
                         namespace other than the first, retry, or keep from the host's"
                    }
                    _ => "",
                }
            }
            Step::Nothing => {
                write!(
                    f,
                    "--unkeep {}: no namespace is kept there",
                    Quoted(&self.dir)
                )?;
                ""
            }
            Step::Umount(ns) => {
                write!(f, "umount2({}, MNT_DETACH)", file(ns))?;
                match self.errno {
                    Some(Errno::EPERM) => "unmounting needs CAP_SYS_ADMIN, as mounting did",
                    _ => "",
                }
            }
            Step::Unlink(ns) => {
                write!(f, "unlinkat({})", file(ns))?;
                ""
            }
        };
        if let Some(errno) = self.errno {
            write!(f, ": {}", ErrnoName(errno))?;
        }
        if !hint.is_empty() {
            write!(f, ": {hint}")?;
        }
        Ok(())
    }
}
