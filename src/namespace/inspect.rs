//! Inspecting namespaces: which ones a process is in, which user namespace
//! owns each, and where PID and user namespaces sit in their hierarchies.
//!
//! A link of `/proc/PID/ns/` names a namespace (`uts:[4026532180]`), and
//! opening it gives a descriptor of the namespace itself. ioctl_ns(2) asks
//! such a descriptor four questions:
//!
//! - `NS_GET_NSTYPE`: its type, as its `CLONE_NEW*` flag;
//! - `NS_GET_USERNS`: a descriptor of the user namespace that owns it. Every
//!   namespace is owned by the user namespace its creator was in when it
//!   was created, and changing it (sethostname(2) in a UTS namespace, an
//!   interface in a network namespace) takes `CAP_SYS_ADMIN` (or the
//!   capability the change needs) in that owner. That is why clone(2)
//!   makes the new user namespace first: the other namespaces created with
//!   it are owned by it, where the child has every capability;
//! - `NS_GET_PARENT`: for a PID or user namespace, the one it was created
//!   in (a user namespace's owner is its parent);
//! - `NS_GET_OWNER_UID`: for a user namespace, the effective uid of its
//!   creator.
//!
//! The answers are descriptors too, so the questions can be asked again,
//! up the hierarchy, until the kernel answers `EPERM`: the namespace asked
//! for is outside the caller's view (above its own user or PID namespace),
//! or there is none (the initial user namespace has no owner, the initial
//! namespaces no parent). fstat(2) of each descriptor gives its identity,
//! device and inode ([`NsId`]).
//!
//! A process's pid in each PID namespace it belongs to is the `NSpid:` line
//! of `/proc/PID/status`: from the PID namespace of that `/proc` mount down
//! to the process's own, where a command in a new one is 1.
//!
//! `/proc` numbers processes as the PID namespace it was mounted for does,
//! which need not be the caller's: in nsclone run by a command of nsclone
//! `--pid` without `--mount-proc`, `/proc/PID` names another process than
//! the caller's `PID`. So the caller reads itself at `/proc/self`, and when
//! its `NSpid` shows that `/proc` belongs to a PID namespace above its own,
//! it asks `/proc` for the others' numbers through a pidfd: the `Pid:` line
//! of `/proc/self/fdinfo/PIDFD` is the process's pid as that `/proc`
//! counts.
//!
//! [`Snapshot::of_self_and`] gathers all of it for the caller and a few
//! processes, each namespace once; [`crate::show`] draws it for
//! `--show-ns`.

use alloc::vec::Vec;
use core::ffi::CStr;
use core::fmt::Write;

use syscalls::Errno;

use super::{LINKS, Namespace, NsId};
use crate::sys::{self, Fd, Pid};
use crate::text::FixedBuf;

/// The inode of the initial user namespace, fixed by the kernel
/// (`PROC_USER_INIT_INO` in `include/linux/proc_ns.h`); new namespaces get
/// inodes from `0xF0000000` up.
pub const INITIAL_USER_INO: u64 = 0xEFFF_FFFD;

/// The inode of the initial PID namespace (`PROC_PID_INIT_INO`).
pub const INITIAL_PID_INO: u64 = 0xEFFF_FFFC;

/// A namespace that another refers to: its owner or its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relative {
    /// The namespace, as fstat(2) of the descriptor the kernel gave.
    Known(NsId),
    /// `EPERM`: outside the caller's view, or none at all.
    Hidden,
    /// The kernel could not say, for another reason (`ENOTTY` before
    /// Linux 4.9).
    Unknown(Errno),
}

impl Relative {
    /// The namespace, when the kernel named it.
    pub fn known(self) -> Option<NsId> {
        match self {
            Relative::Known(id) => Some(id),
            _ => None,
        }
    }
}

/// One namespace, as ioctl_ns(2) describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NsInfo {
    /// Its identity.
    pub id: NsId,
    /// Its type (`NS_GET_NSTYPE`; before Linux 4.11, the type it was
    /// opened as).
    pub kind: Namespace,
    /// The user namespace that owns it (`NS_GET_USERNS`).
    pub owner: Relative,
    /// For a PID or user namespace, its parent (`NS_GET_PARENT`).
    pub parent: Option<Relative>,
    /// For a user namespace, its creator's effective uid, as the caller's
    /// user namespace maps it (`NS_GET_OWNER_UID`).
    pub owner_uid: Option<u32>,
}

impl NsInfo {
    /// Whether it is an initial namespace, the one the system started with:
    /// the kernel gives the initial user and PID namespaces fixed inodes,
    /// and they have no parent.
    pub fn is_initial(&self) -> bool {
        let ino = match self.kind {
            Namespace::User => INITIAL_USER_INO,
            Namespace::Pid => INITIAL_PID_INO,
            _ => return false,
        };
        self.id.ino == ino && self.parent == Some(Relative::Hidden)
    }
}

/// The namespaces of one process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    /// Its pid, as the caller numbers it (0 for the caller, if its `NSpid`
    /// could not be read).
    pub pid: Pid,
    /// Each link of `/proc/PID/ns/`, in [`LINKS`]' order: the namespace, or
    /// why it could not be read.
    pub links: Vec<(&'static str, Result<NsId, Errno>)>,
    /// Its pid in each PID namespace it belongs to, from that of `/proc`
    /// down to its own (`NSpid:` in `/proc/PID/status`).
    pub nspid: Result<Vec<Pid>, Errno>,
}

impl Process {
    /// The namespace of link `name` (`uts`, `pid_for_children`...).
    pub fn link(&self, name: &str) -> Option<NsId> {
        self.links
            .iter()
            .find(|(link, _)| *link == name)
            .and_then(|(_, id)| id.ok())
    }

    /// Whether any of its links names the namespace `id`.
    pub fn is_in(&self, id: NsId) -> bool {
        self.links.iter().any(|(_, link)| *link == Ok(id))
    }
}

/// The namespaces of a few processes, and every namespace they lead to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The processes, in the order asked.
    pub processes: Vec<Process>,
    /// Every namespace met, once each: those the processes are in, and
    /// their owners and parents, as far up as the caller may see. An owner
    /// or a parent comes before the namespaces that refer to it.
    pub namespaces: Vec<NsInfo>,
}

impl Snapshot {
    /// Read the namespaces of the caller (first) and of `others` (pids as
    /// the caller numbers them) from `/proc`, and ask the kernel about each
    /// namespace met. Errors are kept where they happened: a link that
    /// could not be read, a relative the kernel would not give.
    pub fn of_self_and(others: &[Pid]) -> Snapshot {
        let mut snapshot = Snapshot {
            processes: Vec::new(),
            namespaces: Vec::new(),
        };
        let me = snapshot.process(ProcDir::SelfDir, 0);
        // One number: /proc belongs to our own PID namespace.
        let ours = me.nspid.as_ref().map_or(true, |pids| pids.len() == 1);
        snapshot.processes.push(me);
        for &pid in others {
            let process = match ours {
                true => snapshot.process(ProcDir::Pid(pid), pid),
                false => match proc_number(pid) {
                    Ok(number) => snapshot.process(ProcDir::Pid(number), pid),
                    Err(errno) => Process {
                        pid,
                        links: LINKS.iter().map(|&name| (name, Err(errno))).collect(),
                        nspid: Err(errno),
                    },
                },
            };
            snapshot.processes.push(process);
        }
        snapshot
    }

    /// The namespaces of the process at `dir` in `/proc`, numbered `pid`
    /// by the caller (for the caller itself, its `NSpid` says).
    fn process(&mut self, dir: ProcDir, pid: Pid) -> Process {
        let links = LINKS
            .iter()
            .map(|&name| (name, self.visit_link(dir, name)))
            .collect();
        let nspid = nspid(dir);
        let own = nspid.as_ref().ok().and_then(|pids| pids.last().copied());
        Process {
            pid: match dir {
                ProcDir::SelfDir => own.unwrap_or(pid),
                ProcDir::Pid(_) => pid,
            },
            links,
            nspid,
        }
    }

    /// What was learnt of namespace `id`.
    pub fn get(&self, id: NsId) -> Option<&NsInfo> {
        self.namespaces.iter().find(|ns| ns.id == id)
    }

    /// Open `/proc/PID/ns/NAME` and visit the namespace.
    fn visit_link(&mut self, dir: ProcDir, name: &'static str) -> Result<NsId, Errno> {
        let mut path = FixedBuf::<64>::new();
        let _ = write!(path, "{dir}/ns/{name}");
        let path = path.c_str().ok_or(Errno::EINVAL)?;
        let why = "the namespace itself, to ask it who owns it (ioctl_ns(2))";
        let fd = sys::open(path, libc::O_RDONLY, why)?;
        self.visit(&fd, link_type(name))
    }

    /// The identity of the namespace open as `fd`; a namespace not met
    /// before is described first.
    fn visit(&mut self, fd: &Fd, expected: Namespace) -> Result<NsId, Errno> {
        let id = NsId::from_stat(&sys::fstat(fd.raw())?);
        if self.get(id).is_none() {
            let info = self.describe(fd, id, expected);
            self.namespaces.push(info);
        }
        Ok(id)
    }

    /// Ask the kernel about the namespace open as `fd`, and visit its
    /// owner and parent.
    fn describe(&mut self, fd: &Fd, id: NsId, expected: Namespace) -> NsInfo {
        let kind = sys::ioctl_ns_type(
            fd.raw(),
            "what this file is: the kernel's word, not its name's",
        )
        .ok()
        .and_then(type_of_flag)
        .unwrap_or(expected);
        let owner = self.relative(sys::ioctl_ns_userns(fd.raw()), Namespace::User);
        let parent = match kind {
            Namespace::Pid | Namespace::User => {
                Some(self.relative(sys::ioctl_ns_parent(fd.raw()), kind))
            }
            _ => None,
        };
        let owner_uid = match kind {
            Namespace::User => sys::ioctl_ns_owner_uid(fd.raw()).ok(),
            _ => None,
        };
        NsInfo {
            id,
            kind,
            owner,
            parent,
            owner_uid,
        }
    }

    /// The relative the kernel gave (or refused) as a descriptor.
    fn relative(&mut self, fd: Result<Fd, Errno>, kind: Namespace) -> Relative {
        match fd {
            Ok(fd) => match self.visit(&fd, kind) {
                Ok(id) => Relative::Known(id),
                Err(errno) => Relative::Unknown(errno),
            },
            Err(Errno::EPERM) => Relative::Hidden,
            Err(errno) => Relative::Unknown(errno),
        }
    }
}

/// A process's directory in `/proc`.
#[derive(Clone, Copy, Debug)]
enum ProcDir {
    /// `/proc/self`: the caller, whatever `/proc` numbers it.
    SelfDir,
    /// `/proc/PID`, `PID` as `/proc` numbers it.
    Pid(Pid),
}

impl core::fmt::Display for ProcDir {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ProcDir::SelfDir => f.write_str("/proc/self"),
            ProcDir::Pid(pid) => write!(f, "/proc/{pid}"),
        }
    }
}

/// The type of namespace a link of `/proc/PID/ns/` names.
fn link_type(name: &str) -> Namespace {
    let name = name.strip_suffix("_for_children").unwrap_or(name);
    Namespace::ALL
        .into_iter()
        .find(|ns| ns.name() == name)
        .unwrap_or(Namespace::Uts)
}

/// The type whose `CLONE_NEW*` flag is `flag`.
fn type_of_flag(flag: i32) -> Option<Namespace> {
    Namespace::ALL.into_iter().find(|ns| ns.flag() == flag)
}

/// The `NSpid:` line of `/proc/PID/status` (Linux 4.1).
fn nspid(dir: ProcDir) -> Result<Vec<Pid>, Errno> {
    let mut path = FixedBuf::<64>::new();
    let _ = write!(path, "{dir}/status");
    let why = "NSpid: its pid in each PID namespace it is in";
    read_field(path.c_str().ok_or(Errno::EINVAL)?, b"NSpid:", why)
}

/// The number by which `/proc` knows the process the caller knows as
/// `pid`: the `Pid:` line of the fdinfo of a pidfd of it (Linux 5.3).
fn proc_number(pid: Pid) -> Result<Pid, Errno> {
    let pidfd = sys::pidfd_open(pid)?;
    let mut path = FixedBuf::<64>::new();
    let _ = write!(path, "/proc/self/fdinfo/{}", pidfd.raw());
    let why = "Pid: its number in this /proc, which is not of our PID namespace";
    let pids = read_field(path.c_str().ok_or(Errno::EINVAL)?, b"Pid:", why)?;
    pids.first().copied().ok_or(Errno::ENOENT)
}

/// The numbers on the line `field` of the file at `path`, read until that
/// line is whole: `NSpid:` follows `Groups:`, whose length has no bound
/// worth assuming.
fn read_field(path: &CStr, field: &[u8], why: &str) -> Result<Vec<Pid>, Errno> {
    let file = sys::open(path, libc::O_RDONLY, why)?;
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = sys::read(file.raw(), &mut buf)?;
        text.extend_from_slice(&buf[..n]);
        if let Some(pids) = parse_field(&text, field) {
            return Ok(pids);
        }
        if n == 0 {
            return Err(Errno::ENOENT);
        }
    }
}

/// The numbers of a whole line `field` (such as `NSpid:`) of a file of
/// `/proc` made of `Name:\tvalue` lines: `NSpid:\t4712\t1\n` gives
/// `[4712, 1]`.
pub fn parse_field(text: &[u8], field: &[u8]) -> Option<Vec<Pid>> {
    let at = (0..text.len())
        .find(|&i| (i == 0 || text[i - 1] == b'\n') && text[i..].starts_with(field))?;
    let rest = &text[at + field.len()..];
    let line = &rest[..rest.iter().position(|&b| b == b'\n')?];
    core::str::from_utf8(line)
        .ok()?
        .split_ascii_whitespace()
        .map(|pid| pid.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_parsed_whole() {
        let status = b"Name:\tsh\nPid:\t4712\nNSpid:\t4712\t1\nNSpgid:\t4712\t1\n";
        assert_eq!(parse_field(status, b"NSpid:"), Some(vec![4712, 1]));
        assert_eq!(parse_field(status, b"Pid:"), Some(vec![4712]));
        let nspid = |text: &[u8]| parse_field(text, b"NSpid:");
        assert_eq!(nspid(b"Name:\tsh\nNSpid:\t9\n"), Some(vec![9]));
        // A line not read to its end yet, or none at all.
        assert_eq!(nspid(b"Name:\tsh\nNSpid:\t4712\t"), None);
        assert_eq!(nspid(b"Name:\tsh\nPid:\t1\n"), None);
        assert_eq!(nspid(b"Name:\tsh\nNSpid:\tx\n"), None);
    }

    #[test]
    fn link_names_give_their_types() {
        assert_eq!(link_type("pid_for_children"), Namespace::Pid);
        assert_eq!(link_type("time_for_children"), Namespace::Time);
        assert_eq!(link_type("mnt"), Namespace::Mount);
        for ns in Namespace::ALL {
            assert_eq!(link_type(ns.name()), ns);
            assert_eq!(type_of_flag(ns.flag()), Some(ns));
        }
    }

    #[test]
    fn our_own_namespaces_as_the_kernel_tells_them() {
        let me = std::process::id() as Pid;
        let snapshot = Snapshot::of_self_and(&[]);
        let process = &snapshot.processes[0];
        assert_eq!(process.pid, me);
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let nspid = parse_field(status.as_bytes(), b"NSpid:").unwrap();
        assert_eq!(process.nspid, Ok(nspid));
        for name in LINKS {
            // Each link: the identity std's stat gives, and a namespace of
            // the type the link names.
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(format!("/proc/self/ns/{name}")).unwrap();
            let id = process.link(name).unwrap();
            assert_eq!((id.dev, id.ino), (meta.dev(), meta.ino()), "{name}");
            let info = snapshot.get(id).unwrap();
            assert_eq!(info.kind, link_type(name), "{name}");
            // Every namespace has an owner (or is above our view), and a
            // user namespace's owner is its parent.
            assert_ne!(info.owner, Relative::Unknown(Errno::ENOTTY), "{name}");
            match info.kind {
                Namespace::User => {
                    assert_eq!(info.parent, Some(info.owner));
                    assert!(info.owner_uid.is_some());
                }
                Namespace::Pid => assert!(info.parent.is_some()),
                _ => assert!(info.parent.is_none() && info.owner_uid.is_none()),
            }
            if let Some(owner) = info.owner.known() {
                assert_eq!(snapshot.get(owner).unwrap().kind, Namespace::User);
            }
        }
        // Each namespace once; owners and parents before those they own.
        for (i, ns) in snapshot.namespaces.iter().enumerate() {
            assert!(!snapshot.namespaces[..i].iter().any(|n| n.id == ns.id));
            for relative in [Some(ns.owner), ns.parent].into_iter().flatten() {
                if let Some(id) = relative.known() {
                    let at = snapshot.namespaces.iter().position(|n| n.id == id);
                    assert!(at.unwrap() < i, "{ns:?}");
                }
            }
        }
    }
}
