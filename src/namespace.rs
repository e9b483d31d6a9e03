//! Namespaces: which types exist, how to tell two apart, and the hostname
//! of the UTS namespace.
//!
//! A namespace wraps one kind of global resource so that the processes in it
//! see their own instance (namespaces(7)). clone(2) creates a new one of each
//! type whose `CLONE_NEW*` flag it is given, and puts the child in it. nsclone
//! always creates a UTS namespace (hostname); the others are asked for one by
//! one ([`Namespace`]), and some need a step of their own before the command
//! runs, each in its own module:
//!
//! - [`user`]: the parent writes the child's `uid_map` and `gid_map`;
//! - [`mount`]: the child makes `/` private, and may mount a fresh `/proc`;
//! - [`root`]: with `--root`, the child makes a directory its `/` with
//!   pivot_root(2);
//! - [`net`]: the child brings the loopback interface up;
//! - [`time`]: clock offsets, and the reason `CLONE_NEWTIME` cannot be given
//!   to clone(2) at all.
//!
//! Two modules are about namespaces that exist already: [`join`] enters
//! them with setns(2) before clone, and [`keep`] keeps the new ones alive
//! after the command, with bind mounts of their files.
//!
//! IPC, PID and cgroup namespaces need nothing but their flag. In a new PID
//! namespace the command is PID 1: orphans are reparented to it, its exit
//! kills the rest of the namespace, and it ignores the signals it has no
//! handler for (see [`crate::supervise`]).
//!
//! # Identity
//!
//! Every namespace a process is in shows as a link in `/proc/PID/ns/`, such
//! as `uts -> uts:[4026531838]`; the number is the inode of the namespace in
//! the kernel's nsfs file system. A namespace is identified by the device
//! *and* inode behind that link (namespaces(7)): the inode number alone is
//! reused once a namespace is gone. nsclone uses identity twice: before the
//! child changes anything in a namespace (the hostname, the mounts, `lo`), it
//! checks that the namespace is not the parent's, so the host's can never
//! change; and `--show-ns` prints both sides ([`crate::show`]), with what
//! ioctl_ns(2) tells of each namespace: its owner and parent ([`inspect`]).
//!
//! Without `/proc` (a mount namespace where it was unmounted), Linux 6.11
//! and later still answer: a pidfd of the process (pidfd_open(2)) and the
//! ioctl `PIDFD_GET_<TYPE>_NAMESPACE` give a descriptor of the namespace
//! itself, whose fstat(2) is the same device and inode ([`NsId::of_self`]).
//!
//! The UTS namespace holds the hostname and NIS domain name that uname(2)
//! reports; sethostname(2) changes the caller's. See uts_namespaces(7).

pub mod inspect;
pub mod join;
pub mod keep;
pub mod mount;
pub mod net;
pub mod root;
pub mod time;
pub mod user;

use alloc::ffi::CString;
use core::ffi::CStr;
use core::fmt;

use syscalls::Errno;

use crate::sys::{self, Pid};
use crate::text::Quoted;

/// The longest hostname the kernel accepts, in bytes (`HOST_NAME_MAX`).
pub const HOST_NAME_MAX: usize = 64;

/// A type of namespace, as namespaces(7) lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Namespace {
    /// The cgroup root directory (`/proc/self/cgroup` shows paths from it).
    Cgroup,
    /// System V IPC objects and POSIX message queues.
    Ipc,
    /// The mount table.
    Mount,
    /// Network interfaces, addresses, routes, ports, firewall rules.
    Net,
    /// Process ids: the first process in a new one is PID 1.
    Pid,
    /// The monotonic and boot-time clocks' offsets.
    Time,
    /// User and group ids, and capabilities.
    User,
    /// The hostname and NIS domain name.
    Uts,
}

/// What the kernel calls each type, in one table (in [`Namespace`]'s order).
struct Names {
    /// Its `CLONE_NEW*` flag, as clone(2), unshare(2) and setns(2) take it.
    flag: i32,
    flag_name: &'static str,
    /// Its link in `/proc/PID/ns/`.
    link: &'static str,
    /// The caller's own link, ready for the child (which may not format).
    self_link: &'static CStr,
    /// The pidfd ioctl that opens it, `PIDFD_GET_*_NAMESPACE` (Linux 6.11).
    pidfd_ioctl: u64,
    /// What a process in a new one gets for itself, for messages.
    isolates: &'static str,
}

/// `_IO(PIDFS_IOCTL_MAGIC, nr)` of `<linux/pidfd.h>`.
const fn pidfd_ioctl(nr: u64) -> u64 {
    0xff << 8 | nr
}

const NAMES: [Names; 8] = [
    Names {
        flag: libc::CLONE_NEWCGROUP,
        flag_name: "CLONE_NEWCGROUP",
        link: "cgroup",
        self_link: c"/proc/self/ns/cgroup",
        pidfd_ioctl: pidfd_ioctl(1),
        isolates: "cgroup root",
    },
    Names {
        flag: libc::CLONE_NEWIPC,
        flag_name: "CLONE_NEWIPC",
        link: "ipc",
        self_link: c"/proc/self/ns/ipc",
        pidfd_ioctl: pidfd_ioctl(2),
        isolates: "IPC objects",
    },
    Names {
        flag: libc::CLONE_NEWNS,
        flag_name: "CLONE_NEWNS",
        link: "mnt",
        self_link: c"/proc/self/ns/mnt",
        pidfd_ioctl: pidfd_ioctl(3),
        isolates: "mounts",
    },
    Names {
        flag: libc::CLONE_NEWNET,
        flag_name: "CLONE_NEWNET",
        link: "net",
        self_link: c"/proc/self/ns/net",
        pidfd_ioctl: pidfd_ioctl(4),
        isolates: "network",
    },
    Names {
        flag: libc::CLONE_NEWPID,
        flag_name: "CLONE_NEWPID",
        link: "pid",
        self_link: c"/proc/self/ns/pid",
        pidfd_ioctl: pidfd_ioctl(5),
        isolates: "process ids",
    },
    Names {
        flag: libc::CLONE_NEWTIME,
        flag_name: "CLONE_NEWTIME",
        link: "time",
        self_link: c"/proc/self/ns/time",
        pidfd_ioctl: pidfd_ioctl(7),
        isolates: "clocks",
    },
    Names {
        flag: libc::CLONE_NEWUSER,
        flag_name: "CLONE_NEWUSER",
        link: "user",
        self_link: c"/proc/self/ns/user",
        pidfd_ioctl: pidfd_ioctl(9),
        isolates: "user ids",
    },
    Names {
        flag: libc::CLONE_NEWUTS,
        flag_name: "CLONE_NEWUTS",
        link: "uts",
        self_link: c"/proc/self/ns/uts",
        pidfd_ioctl: pidfd_ioctl(10),
        isolates: "hostname",
    },
];

impl Namespace {
    /// Every type, in the order `/proc/PID/ns` lists them.
    pub const ALL: [Namespace; 8] = [
        Namespace::Cgroup,
        Namespace::Ipc,
        Namespace::Mount,
        Namespace::Net,
        Namespace::Pid,
        Namespace::Time,
        Namespace::User,
        Namespace::Uts,
    ];

    const fn names(self) -> &'static Names {
        &NAMES[self as usize]
    }

    /// Its `CLONE_NEW*` flag, as clone(2), unshare(2) and setns(2) take it.
    pub const fn flag(self) -> i32 {
        self.names().flag
    }

    /// The flag's name, for messages.
    pub const fn flag_name(self) -> &'static str {
        self.names().flag_name
    }

    /// The name of its link in `/proc/PID/ns/` (`mnt` for mount).
    pub const fn name(self) -> &'static str {
        self.names().link
    }

    /// What a process in a new namespace of this type gets for itself, for
    /// messages.
    pub const fn isolates(self) -> &'static str {
        self.names().isolates
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The links in `/proc/PID/ns/`, as namespaces(7) lists them: one per type,
/// and two that name the namespace the process's *next children* will be
/// in (for PID and time namespaces a process never changes its own).
pub const LINKS: [&str; 10] = [
    "cgroup",
    "ipc",
    "mnt",
    "net",
    "pid",
    "pid_for_children",
    "time",
    "time_for_children",
    "user",
    "uts",
];

/// A set of namespace types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Namespaces(u8);

impl Namespaces {
    /// No namespace.
    pub const EMPTY: Namespaces = Namespaces(0);

    /// This set plus `ns`.
    pub const fn with(self, ns: Namespace) -> Namespaces {
        Namespaces(self.0 | 1 << ns as u8)
    }

    /// This set without `ns`.
    pub const fn without(self, ns: Namespace) -> Namespaces {
        Namespaces(self.0 & !(1 << ns as u8))
    }

    /// Whether `ns` is in the set.
    pub const fn contains(self, ns: Namespace) -> bool {
        self.0 & (1 << ns as u8) != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in [`Namespace::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Namespace> + Clone {
        Namespace::ALL
            .into_iter()
            .filter(move |&ns| self.contains(ns))
    }

    /// The `CLONE_NEW*` flags of these types, as unshare(2) and setns(2)
    /// take them.
    pub fn flags(self) -> i32 {
        self.iter().fold(0, |flags, ns| flags | ns.flag())
    }

    /// The `CLONE_NEW*` flags that clone(2) can create these with: all but
    /// `CLONE_NEWTIME`. Its value, 0x80, lies in the low byte of the flags,
    /// where legacy clone takes the child's exit signal: the kernel would
    /// read it as part of the signal number, not as a namespace. See
    /// [`time`] for how nsclone creates a time namespace instead.
    pub fn clone_flags(self) -> u64 {
        self.without(Namespace::Time).flags() as u64
    }
}

/// The identity of a namespace: the device and inode of its nsfs file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NsId {
    /// The nsfs device, as `st_dev`.
    pub dev: u64,
    /// The namespace's inode number, as `st_ino` (and in `uts:[INODE]`).
    pub ino: u64,
}

impl NsId {
    /// The identity in a namespace file's metadata.
    pub fn from_stat(st: &libc::stat) -> NsId {
        NsId {
            dev: st.st_dev,
            ino: st.st_ino,
        }
    }

    /// The identity of the caller's namespace of type `ns`: from
    /// `/proc/self/ns/NAME`, or, where `/proc` is not mounted, through a
    /// pidfd of the caller (Linux 6.11). Allocates nothing: the child calls
    /// it, to check that a namespace is new before changing anything in it.
    pub fn of_self(ns: Namespace) -> Result<NsId, Errno> {
        match sys::stat(ns.names().self_link) {
            Ok(st) => Ok(NsId::from_stat(&st)),
            Err(Errno::ENOENT) if !proc_mounted() => NsId::through_pidfd(sys::getpid(), ns),
            Err(errno) => Err(errno),
        }
    }

    /// The identity of the namespace of type `ns` of process `pid`, asked
    /// through its pidfd: `PIDFD_GET_<TYPE>_NAMESPACE` opens the namespace
    /// itself (Linux 6.11), and fstat(2) gives its device and inode.
    pub fn through_pidfd(pid: Pid, ns: Namespace) -> Result<NsId, Errno> {
        let pidfd = sys::pidfd_open(pid)?;
        let nsfd = sys::ioctl_pidfd_namespace(pidfd.raw(), ns.names().pidfd_ioctl, ns.name())?;
        Ok(NsId::from_stat(&sys::fstat(nsfd.raw())?))
    }
}

impl fmt::Display for NsId {
    /// `DEV:INODE`, the device as `major:minor` would be too long a story:
    /// shown as the number it is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.dev, self.ino)
    }
}

/// Whether a proc file system is mounted on `/proc`: its root directory
/// holds `self`, a link to the caller's own directory.
pub fn proc_mounted() -> bool {
    sys::stat(c"/proc/self").is_ok()
}

/// `/proc/PID/ns/NAME`: the link of process `pid` to its namespace of type
/// `ns`. For the parent only (it allocates).
pub fn ns_link(pid: Pid, ns: Namespace) -> CString {
    CString::new(alloc::format!("/proc/{pid}/ns/{}", ns.name())).unwrap_or_default()
}

/// `DIR/NAME`, for the system calls: a namespace file kept in DIR ([`keep`],
/// [`join`]), or `DIR/proc` in a new root ([`root`]). DIR has no NUL byte:
/// it came through a C string, or was checked.
pub fn path_in(dir: &[u8], name: &str) -> CString {
    let mut path = dir.to_vec();
    if !path.ends_with(b"/") {
        path.push(b'/');
    }
    path.extend_from_slice(name.as_bytes());
    CString::new(path).unwrap_or_default()
}

/// Check that `dir`, a directory of namespace files (`--keep DIR`,
/// `--join DIR`), is one: stat(2)'s error, `ENOTDIR`, or `EINVAL` for a
/// NUL byte, which no path can hold.
pub(crate) fn check_dir(dir: &[u8]) -> Result<(), Errno> {
    let cdir = CString::new(dir).map_err(|_| Errno::EINVAL)?;
    match sys::stat(&cdir)?.st_mode & libc::S_IFMT {
        libc::S_IFDIR => Ok(()),
        _ => Err(Errno::ENOTDIR),
    }
}

/// Whether the calling process has a single thread: `/proc/self/task` has
/// one directory per thread, and a directory's link count is 2 plus its
/// subdirectories. The kernel asks it of a process that enters a user,
/// mount or time namespace ([`join`]), or writes its own clock offsets
/// ([`time`]).
pub(crate) fn single_threaded() -> bool {
    sys::stat(c"/proc/self/task").is_ok_and(|st| st.st_nlink == 3)
}

/// Write `text` to a file in `/proc` with a single write(2).
///
/// The kernel parses `uid_map`, `gid_map`, `setgroups` and
/// `timens_offsets` from one write, and refuses a second write to a map: a
/// short write would be a broken request, so it is an error (`EIO`).
/// Allocates nothing, so the child may call it.
pub fn write_proc(path: &CStr, text: &[u8], why: &str) -> Result<(), Errno> {
    let file = sys::open(path, libc::O_WRONLY, why)?;
    match sys::write(file.raw(), text)? {
        written if written == text.len() => Ok(()),
        _ => Err(Errno::EIO),
    }
}

/// A hostname the kernel will accept: 1 to [`HOST_NAME_MAX`] bytes, kept
/// inline (the child reads it, and nothing here allocates).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Hostname {
    bytes: [u8; HOST_NAME_MAX],
    len: u8,
}

/// Why a hostname was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostnameError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`HOST_NAME_MAX`]; holds its length.
    TooLong(usize),
}

impl fmt::Display for HostnameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostnameError::Empty => write!(f, "a hostname cannot be empty"),
            HostnameError::TooLong(len) => write!(
                f,
                "{len} bytes is too long: hostnames are at most {HOST_NAME_MAX} bytes"
            ),
        }
    }
}

impl Hostname {
    /// Check `name` against the kernel's limits.
    pub fn new(name: impl AsRef<[u8]>) -> Result<Hostname, HostnameError> {
        let name = name.as_ref();
        match name.len() {
            0 => Err(HostnameError::Empty),
            len if len > HOST_NAME_MAX => Err(HostnameError::TooLong(len)),
            len => {
                let mut bytes = [0; HOST_NAME_MAX];
                bytes[..len].copy_from_slice(name);
                Ok(Hostname {
                    bytes,
                    len: len as u8,
                })
            }
        }
    }

    /// The name's bytes, as sethostname(2) takes them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl fmt::Display for Hostname {
    /// Quoted, as messages show names: `"newhostname"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Quoted(self.as_bytes()).fmt(f)
    }
}

impl fmt::Debug for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hostname({self})")
    }
}

/// The hostname of the caller's UTS namespace, as uname(2) reports it,
/// written into `buf`; returns its length.
pub fn hostname(buf: &mut [u8; 65]) -> Result<usize, Errno> {
    let uts = sys::uname()?;
    let mut len = 0;
    for (dst, &c) in buf
        .iter_mut()
        .zip(uts.nodename.iter().take_while(|&&c| c != 0))
    {
        *dst = c as u8;
        len += 1;
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_are_1_to_64_bytes() {
        assert_eq!(Hostname::new(""), Err(HostnameError::Empty));
        assert!(Hostname::new("a").is_ok());
        assert!(Hostname::new("x".repeat(64)).is_ok());
        assert_eq!(
            Hostname::new("x".repeat(65)),
            Err(HostnameError::TooLong(65))
        );
    }

    #[test]
    fn non_utf8_hostnames_are_bytes() {
        let name = Hostname::new([0xff, b'a']).unwrap();
        assert_eq!(name.as_bytes(), [0xff, b'a']);
        assert_eq!(name.to_string(), "\"\u{fffd}a\"");
    }

    #[test]
    fn the_table_follows_the_kernel() {
        // Each type's flag and link, against libc and the kernel's own
        // /proc/self/ns, in the order the kernel lists the links.
        let mut flags = 0;
        for ns in Namespace::ALL {
            assert!(ns.flag_name().starts_with("CLONE_NEW"), "{ns}");
            assert_eq!(flags & ns.flag(), 0, "{ns}: flags are distinct bits");
            flags |= ns.flag();
            assert!(LINKS.contains(&ns.name()), "{ns}");
            assert_eq!(
                ns.names().self_link.to_bytes(),
                format!("/proc/self/ns/{}", ns.name()).as_bytes()
            );
        }
        let mut on_disk: Vec<String> = std::fs::read_dir("/proc/self/ns")
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        on_disk.sort();
        assert_eq!(on_disk, LINKS);
    }

    #[test]
    fn our_identity_is_the_kernels_through_proc_and_through_a_pidfd() {
        use std::os::unix::fs::MetadataExt;
        for ns in Namespace::ALL {
            // std's stat (through libc) is an independent witness.
            let meta = std::fs::metadata(format!("/proc/self/ns/{}", ns.name())).unwrap();
            let id = NsId::of_self(ns).unwrap();
            assert_eq!((id.dev, id.ino), (meta.dev(), meta.ino()), "{ns}");
            assert_eq!(NsId::through_pidfd(sys::getpid(), ns), Ok(id), "{ns}");
        }
        let link = std::fs::read_link("/proc/self/ns/uts").unwrap();
        let id = NsId::of_self(Namespace::Uts).unwrap();
        assert_eq!(link.to_str().unwrap(), format!("uts:[{}]", id.ino));
    }

    #[test]
    fn the_hostname_is_unames() {
        let mut buf = [0; 65];
        let len = hostname(&mut buf).unwrap();
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(&buf[..len], host.trim_end().as_bytes());
    }
}
