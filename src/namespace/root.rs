//! A root of its own: `--root DIR` makes DIR the `/` of the new mount
//! namespace with pivot_root(2), and the command is found and run there.
//!
//! # Why not chroot
//! chroot(2) changes one thing: the directory at which the caller's path
//! lookups start for `/`, and beyond which `..` does not climb. Everything
//! else stays: the mount namespace still holds the whole host tree, and the
//! current directory may lie outside the new root. So chroot is escapable
//! by design. A process with `CAP_SYS_CHROOT` (root in the chroot) does
//! `mkdir("sub"); chroot("sub")`: its root moves down, but its current
//! directory stays above it, where `..` is never stopped, since the root is
//! never met on the way up; `chdir("..")` enough times reaches the host's
//! `/`, and `chroot(".")` settles there. (The tests run exactly this escape,
//! compiled from C, under chroot(8) and under `--root`.)
//!
//! pivot_root(2) changes the mount tree instead. In the child's new mount
//! namespace, DIR becomes the root *mount*, and the old root mount, the
//! host's whole tree, is stacked under the name given as `put_old`. Detaching
//! it with umount2(2) `MNT_DETACH` removes it from this namespace's tree: no
//! path, `..` or otherwise, leads to it any more, because it is not in the
//! tree at all. (Nothing is unmounted on the host: the host's mounts live in
//! the host's namespace, and the child's copy goes away when nothing uses it.)
//! A process inside can still chroot into a subdirectory and climb back out
//! of it, but only up to DIR, which is `/` now.
//!
//! pivot_root is about the view of the file tree, not a sandbox against root:
//! a process with `CAP_SYS_ADMIN` over the namespace may mount file systems
//! of its own. Root inside `--root` without `--pid` can mount a proc of the
//! host's PID namespace, and `/proc/PID/root` of a host process is the
//! host's `/` (measured here). With `--pid` that proc shows only the
//! container's processes; with `--user` the mount is refused (the host's
//! PID namespace is not the new user namespace's). So `--root` goes with
//! `--pid`, and without root, `--user`.
//!
//! # The steps, in the child
//! After `/` was made recursively private ([`super::mount`]: pivot_root
//! refuses shared mounts, and nothing must propagate back to the host):
//!
//! 1. `mount(DIR, DIR, NULL, MS_BIND|MS_REC, NULL)`: pivot_root wants the
//!    new root to be a mount point; DIR bound onto itself is one, with the
//!    mounts below it (`MS_REC`);
//! 2. with a new PID namespace, `mount("proc", "DIR/proc", "proc", ...)`: a
//!    fresh `/proc` for the new root, mounted *before* the pivot. Inside a
//!    user namespace the kernel lets proc be mounted only where a proc is
//!    already fully visible in the mount namespace (fs/namespace.c,
//!    `mount_too_revealing`); once the old root is detached there is none,
//!    and the mount fails with `EPERM` (measured on Linux 6.18);
//! 3. `chdir(DIR)`, then `pivot_root(".", ".")`: the new root and `put_old`
//!    are both the current directory, the trick of the pivot_root(2) man
//!    page. The old root is then mounted on top of the new one, at `/`;
//! 4. `umount2(".", MNT_DETACH)`: `.` names the topmost mount there, the old
//!    root: detach it. No directory is needed for `put_old`, so DIR may be
//!    read-only, and nothing is left behind in it (the alternative, a
//!    `DIR/.old_root` directory, needs both);
//! 5. `chdir("/")`, as the man page advises: pivot_root moves the root and
//!    current directory only of the processes whose root or current
//!    directory was the old root, and a current directory must not be left
//!    where nothing leads.
//!
//! The command is then searched in `PATH` and executed inside the new root,
//! from paths the parent prepared (the child allocates nothing): a command
//! missing there is not found, 127, as with chroot(8).
//!
//! # What pivot_root refuses, and what the parent checks first
//! pivot_root(2) fails with `EINVAL` when the new root is not a mount point
//! (the bind mount sees to that), when `put_old` is not at or under it
//! (`.` is), when a mount involved is shared (made private before), when the
//! current root is not a mount point (the caller was chroot'ed), and when
//! the current root is the initramfs (rootfs cannot be pivoted away; such
//! systems use switch_root); with `EBUSY` when the new root is the current
//! one. Before clone, [`check`] refuses what it can see with stat(2): a DIR
//! that does not exist or cannot be reached, is not a directory, or is the
//! current root already, and a `DIR/proc` that is no directory when a proc
//! is to be mounted there. What only the kernel can tell is reported by the
//! child, naming the step.
//!
//! # Without root
//! With `--user`, the child is root in a new user namespace that owns its
//! new mount namespace, so it has the `CAP_SYS_ADMIN` that the bind mount,
//! pivot_root and umount2 need, and all of it works unprivileged (measured
//! on Linux 6.18), provided the invoking user can reach DIR. Only proc is
//! particular: it must be mounted before the old root goes (step 2).

use alloc::ffi::CString;
use core::ffi::CStr;
use core::fmt;

use syscalls::Errno;

use crate::strace::Str;
use crate::sys;

use super::mount::mount_proc_on;
use super::path_in;

/// Where the new root is, prepared by the parent: the child only reads it.
#[derive(Clone, Copy, Debug)]
pub struct NewRoot<'a> {
    /// The directory that becomes `/`.
    pub dir: &'a CStr,
    /// `DIR/proc`, when a fresh proc is mounted there.
    pub proc: Option<&'a CStr>,
}

/// A step of [`NewRoot::enter`], for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Binding DIR onto itself.
    Bind,
    /// Mounting proc on `DIR/proc`.
    MountProc,
    /// chdir(2) into DIR.
    Chdir,
    /// pivot_root(2).
    PivotRoot,
    /// Detaching the old root.
    Detach,
    /// chdir(2) to the new `/`.
    ChdirRoot,
}

impl Step {
    /// Every step, in the order [`NewRoot::enter`] takes them.
    pub const ALL: [Step; 6] = [
        Step::Bind,
        Step::MountProc,
        Step::Chdir,
        Step::PivotRoot,
        Step::Detach,
        Step::ChdirRoot,
    ];
}

/// The flags of the bind mount: DIR, and every mount below it.
pub const BIND_FLAGS: u64 = libc::MS_BIND | libc::MS_REC;

const DOT: &CStr = c".";
const SLASH: &CStr = c"/";

impl NewRoot<'_> {
    /// In the child, in a new mount namespace whose mounts are private:
    /// the steps of the module documentation. Allocates nothing.
    pub fn enter(&self) -> Result<(), (Step, Errno)> {
        let at = |step| move |errno| (step, errno);
        let why = "pivot_root needs the new root to be a mount point: DIR bound onto itself \
                   is one (MS_REC: with the mounts below it)";
        sys::mount_bind(self.dir, self.dir, true, why).map_err(at(Step::Bind))?;
        if let Some(proc) = self.proc {
            mount_proc_on(proc).map_err(at(Step::MountProc))?;
        }
        let why = "pivot_root(\".\", \".\") takes the new root as the current directory";
        sys::chdir(self.dir, why).map_err(at(Step::Chdir))?;
        let why = "the bind mount becomes / of this mount namespace; the old root is \
                   stacked on top of it, at the same place";
        sys::pivot_root(DOT, DOT, why).map_err(at(Step::PivotRoot))?;
        let why = "detach the old root, the top mount at \".\": no path leads to the host's \
                   files from this namespace any more";
        sys::umount2(DOT, libc::MNT_DETACH, why).map_err(at(Step::Detach))?;
        let why = "as pivot_root(2) advises: the current directory is now surely the new /";
        sys::chdir(SLASH, why).map_err(at(Step::ChdirRoot))?;
        Ok(())
    }
}

/// `DIR/proc`, where a fresh proc is mounted before the pivot.
pub fn proc_dir(dir: &[u8]) -> CString {
    path_in(dir, "proc")
}

/// Why the parent refused a DIR, before anything was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// stat(2) of DIR failed: it does not exist, or cannot be reached.
    Stat(Errno),
    /// DIR is not a directory; holds its `st_mode`.
    NotDirectory(u32),
    /// DIR is the current root already.
    AlreadyRoot,
    /// `DIR/proc` cannot hold the new proc: stat(2) failed, or (`None`) it
    /// is not a directory.
    ProcDir(Option<Errno>),
}

/// Check in the parent, with stat(2), what would make the child's steps
/// fail for certain: see the module documentation.
pub fn check(dir: &CStr, proc: Option<&CStr>) -> Result<(), Refused> {
    let why = "--root: is DIR an existing directory? checked before anything is made";
    let st = sys::stat_kind(dir, why).map_err(Refused::Stat)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(Refused::NotDirectory(st.st_mode));
    }
    let why = "is DIR the current root already? pivot_root could not pivot to it (EBUSY)";
    let root = sys::stat_kind(SLASH, why).map_err(Refused::Stat)?;
    if (root.st_dev, root.st_ino) == (st.st_dev, st.st_ino) {
        return Err(Refused::AlreadyRoot);
    }
    if let Some(proc) = proc {
        let why = "is DIR/proc a directory? the new PID namespace's /proc goes there";
        let st = sys::stat_kind(proc, why).map_err(|errno| Refused::ProcDir(Some(errno)))?;
        if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return Err(Refused::ProcDir(None));
        }
    }
    Ok(())
}

/// A step's call as messages show it, with DIR in its place:
/// `mount("/srv/box", "/srv/box", NULL, MS_BIND|MS_REC, NULL)`.
pub struct Call<'a>(pub Step, pub &'a [u8]);

impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = Str(self.1);
        match self.0 {
            Step::Bind => write!(f, "mount({dir}, {dir}, NULL, MS_BIND|MS_REC, NULL)"),
            Step::MountProc => {
                let proc = proc_dir(self.1);
                let proc = Str(proc.as_bytes());
                write!(
                    f,
                    "mount(\"proc\", {proc}, \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)"
                )
            }
            Step::Chdir => write!(f, "chdir({dir})"),
            Step::PivotRoot => f.write_str("pivot_root(\".\", \".\")"),
            Step::Detach => f.write_str("umount2(\".\", MNT_DETACH)"),
            Step::ChdirRoot => f.write_str("chdir(\"/\")"),
        }
    }
}

/// What a file's type is, for messages: `a regular file`.
pub fn kind(mode: u32) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFREG => "a regular file",
        libc::S_IFLNK => "a symbolic link",
        libc::S_IFCHR => "a character device",
        libc::S_IFBLK => "a block device",
        libc::S_IFIFO => "a FIFO",
        libc::S_IFSOCK => "a socket",
        _ => "not a directory",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_is_below_the_new_root() {
        assert_eq!(proc_dir(b"/srv/box").as_bytes(), b"/srv/box/proc");
        assert_eq!(proc_dir(b"/srv/box/").as_bytes(), b"/srv/box/proc");
        assert_eq!(proc_dir(b"box").as_bytes(), b"box/proc");
    }

    #[test]
    fn the_parent_refuses_what_cannot_be_a_root() {
        assert_eq!(
            check(c"/nonexistent-nsclone-root", None),
            Err(Refused::Stat(Errno::ENOENT))
        );
        assert!(matches!(
            check(c"/proc/self/status", None),
            Err(Refused::NotDirectory(_))
        ));
        assert_eq!(check(c"/", None), Err(Refused::AlreadyRoot));
        assert_eq!(check(c"/proc/..", None), Err(Refused::AlreadyRoot));
        assert_eq!(
            check(c"/proc", Some(c"/proc/nonexistent")),
            Err(Refused::ProcDir(Some(Errno::ENOENT)))
        );
        assert_eq!(
            check(c"/proc", Some(c"/proc/uptime")),
            Err(Refused::ProcDir(None))
        );
        assert_eq!(check(c"/proc", Some(c"/proc/self")), Ok(()));
    }

    #[test]
    fn calls_name_the_directory() {
        let show = |step| Call(step, b"/srv/box").to_string();
        assert_eq!(
            show(Step::Bind),
            "mount(\"/srv/box\", \"/srv/box\", NULL, MS_BIND|MS_REC, NULL)"
        );
        assert_eq!(
            show(Step::MountProc),
            "mount(\"proc\", \"/srv/box/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)"
        );
        assert_eq!(show(Step::PivotRoot), "pivot_root(\".\", \".\")");
    }
}
