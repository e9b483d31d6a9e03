//! Namespaces: which types exist, how to tell them apart, and the UTS
//! namespace's hostname.
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
//! - [`net`]: the child brings the loopback interface up;
//! - [`time`]: clock offsets, and the reason `CLONE_NEWTIME` cannot be given
//!   to clone(2) at all.
//!
//! IPC, PID and cgroup namespaces need nothing but their flag. In a new PID
//! namespace the command is PID 1: orphans are reparented to it, its exit
//! kills the rest of the namespace, and it ignores the signals it has no
//! handler for (see [`crate::signal`]).
//!
//! Every namespace a process is in shows as a link in `/proc/PID/ns/`, such
//! as `uts -> uts:[4026531838]`; the number is the namespace's inode. Two
//! processes share a namespace exactly when those links (the device and
//! inode behind them) are equal. nsclone uses that twice: before the child
//! changes anything in a namespace (the hostname, the mounts, `lo`), it
//! checks that the namespace is not the parent's, so the host's can never
//! change; and `--show-ns` prints both sides' links.
//!
//! The UTS namespace holds the hostname and NIS domain name that uname(2)
//! reports; sethostname(2) changes the caller's. See uts_namespaces(7).

pub mod mount;
pub mod net;
pub mod time;
pub mod user;

use std::ffi::CStr;
use std::fmt;

use syscalls::Errno;

use crate::sys::{self, Pid};

/// The longest hostname the kernel accepts, in bytes (`HOST_NAME_MAX`).
pub const HOST_NAME_MAX: usize = 64;

/// The links in `/proc/PID/ns/`, as namespaces(7) lists them.
pub const NAMESPACES: [&str; 10] = [
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

/// A type of namespace, as namespaces(7) lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

    /// Its `CLONE_NEW*` flag, as clone(2), unshare(2) and setns(2) take it.
    pub const fn flag(self) -> i32 {
        match self {
            Namespace::Cgroup => libc::CLONE_NEWCGROUP,
            Namespace::Ipc => libc::CLONE_NEWIPC,
            Namespace::Mount => libc::CLONE_NEWNS,
            Namespace::Net => libc::CLONE_NEWNET,
            Namespace::Pid => libc::CLONE_NEWPID,
            Namespace::Time => libc::CLONE_NEWTIME,
            Namespace::User => libc::CLONE_NEWUSER,
            Namespace::Uts => libc::CLONE_NEWUTS,
        }
    }

    /// The flag's name, for messages.
    pub const fn flag_name(self) -> &'static str {
        match self {
            Namespace::Cgroup => "CLONE_NEWCGROUP",
            Namespace::Ipc => "CLONE_NEWIPC",
            Namespace::Mount => "CLONE_NEWNS",
            Namespace::Net => "CLONE_NEWNET",
            Namespace::Pid => "CLONE_NEWPID",
            Namespace::Time => "CLONE_NEWTIME",
            Namespace::User => "CLONE_NEWUSER",
            Namespace::Uts => "CLONE_NEWUTS",
        }
    }

    /// The name of its link in `/proc/PID/ns/` (`mnt` for mount).
    pub const fn name(self) -> &'static str {
        match self {
            Namespace::Cgroup => "cgroup",
            Namespace::Ipc => "ipc",
            Namespace::Mount => "mnt",
            Namespace::Net => "net",
            Namespace::Pid => "pid",
            Namespace::Time => "time",
            Namespace::User => "user",
            Namespace::Uts => "uts",
        }
    }

    /// The caller's own link, `/proc/self/ns/NAME`, ready for the child.
    const fn self_link(self) -> &'static CStr {
        match self {
            Namespace::Cgroup => c"/proc/self/ns/cgroup",
            Namespace::Ipc => c"/proc/self/ns/ipc",
            Namespace::Mount => c"/proc/self/ns/mnt",
            Namespace::Net => c"/proc/self/ns/net",
            Namespace::Pid => c"/proc/self/ns/pid",
            Namespace::Time => c"/proc/self/ns/time",
            Namespace::User => c"/proc/self/ns/user",
            Namespace::Uts => c"/proc/self/ns/uts",
        }
    }

    /// What a process in a new namespace of this type gets for itself, for
    /// messages.
    pub const fn isolates(self) -> &'static str {
        match self {
            Namespace::Cgroup => "cgroup root",
            Namespace::Ipc => "IPC objects",
            Namespace::Mount => "mounts",
            Namespace::Net => "network",
            Namespace::Pid => "process ids",
            Namespace::Time => "clocks",
            Namespace::User => "user ids",
            Namespace::Uts => "hostname",
        }
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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

    /// Whether `ns` is in the set.
    pub const fn contains(self, ns: Namespace) -> bool {
        self.0 & (1 << ns as u8) != 0
    }

    /// The members, in [`Namespace::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Namespace> {
        Namespace::ALL
            .into_iter()
            .filter(move |&ns| self.contains(ns))
    }

    /// The `CLONE_NEW*` flags that clone(2) can create these with: all but
    /// `CLONE_NEWTIME`. Its value, 0x80, lies in the low byte of the flags,
    /// where legacy clone takes the child's exit signal: the kernel would
    /// read it as part of the signal number, not as a namespace. See
    /// [`time`] for how nsclone creates a time namespace instead.
    pub fn clone_flags(self) -> u64 {
        self.iter()
            .filter(|&ns| ns != Namespace::Time)
            .fold(0, |flags, ns| flags | ns.flag() as u64)
    }
}

/// The identity of a namespace: the device and inode of its `/proc` link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NsId {
    dev: u64,
    ino: u64,
}

/// The identity of the calling process's UTS namespace.
pub fn uts_of_self() -> Result<NsId, Errno> {
    id_of_self(Namespace::Uts)
}

/// The identity of the calling process's namespace of type `ns`. Allocates
/// nothing, so the child may call it.
pub fn id_of_self(ns: Namespace) -> Result<NsId, Errno> {
    ns_id(ns.self_link())
}

/// Whether a `/proc/self/ns` link names the same namespace as `id`.
pub fn is_same(ns: Namespace, id: NsId) -> Result<bool, Errno> {
    Ok(id_of_self(ns)? == id)
}

/// Write `text` to a file in `/proc` with a single write(2).
///
/// The kernel parses `uid_map`, `gid_map`, `setgroups` and
/// `timens_offsets` from one write, and refuses a second write to a map: a
/// short write would be a broken request, so it is an error (`EIO`).
/// Allocates nothing, so the child may call it.
pub fn write_proc(path: &CStr, text: &[u8]) -> Result<(), Errno> {
    let file = sys::open(path, libc::O_WRONLY)?;
    match sys::write(file.raw(), text)? {
        written if written == text.len() => Ok(()),
        _ => Err(Errno::EIO),
    }
}

impl NsId {
    /// The identity in the metadata of a `/proc/.../ns/...` link's target.
    pub fn from_stat(st: &libc::stat) -> NsId {
        NsId {
            dev: st.st_dev,
            ino: st.st_ino,
        }
    }
}

/// The identity of the namespace behind a `/proc/.../ns/...` path.
fn ns_id(path: &CStr) -> Result<NsId, Errno> {
    Ok(NsId::from_stat(&sys::stat(path)?))
}

/// The target of `/proc/PID/ns/NAME`, such as `uts:[4026531838]`.
pub fn link(pid: Pid, name: &str) -> Result<String, Errno> {
    let path = std::ffi::CString::new(format!("/proc/{pid}/ns/{name}")).expect("no NUL");
    let mut buf = [0u8; 64];
    let len = sys::readlink(&path, &mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..len]).into_owned())
}

/// The hostname of the caller's UTS namespace, as uname(2) reports it.
pub fn hostname() -> Result<Vec<u8>, Errno> {
    let uts = sys::uname()?;
    let name = uts
        .nodename
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8);
    Ok(name.collect())
}

/// A hostname the kernel will accept: 1 to [`HOST_NAME_MAX`] bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hostname(Vec<u8>);

/// Why a hostname was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    pub fn new(name: impl Into<Vec<u8>>) -> Result<Hostname, HostnameError> {
        let name = name.into();
        match name.len() {
            0 => Err(HostnameError::Empty),
            len if len > HOST_NAME_MAX => Err(HostnameError::TooLong(len)),
            _ => Ok(Hostname(name)),
        }
    }

    /// The name's bytes, as sethostname(2) takes them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

/// The `/proc/PID/ns` links of two processes side by side, one namespace
/// per row, with the rows that differ marked.
pub fn comparison(parent: Pid, child: Pid) -> String {
    let read =
        |pid, name| link(pid, name).unwrap_or_else(|e| format!("({})", e.name().unwrap_or("?")));
    let rows: Vec<(&str, String, String)> = NAMESPACES
        .iter()
        .map(|&name| (name, read(parent, name), read(child, name)))
        .collect();
    let width = rows
        .iter()
        .map(|(_, p, _)| p.len())
        .max()
        .unwrap_or(0)
        .max(20);
    let mut out = format!(
        "{:<18} {:<width$}  child (pid {child})\n",
        "namespace",
        format!("parent (pid {parent})"),
    );
    for (name, p, c) in rows {
        let line = if p == c {
            format!("{name:<18} {p:<width$}  {c}\n")
        } else {
            format!("{name:<18} {p:<width$}  {c:<width$}  <- differs\n")
        };
        out.push_str(&line);
    }
    out
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
        let name = Hostname::new(vec![0xff, b'a']).unwrap();
        assert_eq!(name.as_bytes(), [0xff, b'a']);
    }

    #[test]
    fn a_process_shares_every_namespace_with_itself() {
        let me = sys::getpid();
        let table = comparison(me, me);
        assert!(table.contains("uts:["), "{table}");
        assert!(!table.contains("differs"), "{table}");
        assert_eq!(table.lines().count(), 1 + NAMESPACES.len());
    }

    #[test]
    fn our_uts_namespace_has_an_identity() {
        assert_eq!(uts_of_self().unwrap(), uts_of_self().unwrap());
        let link = link(sys::getpid(), "uts").unwrap();
        assert!(link.starts_with("uts:[") && link.ends_with(']'), "{link}");
    }
}
