//! User namespaces: root inside, the invoking user outside.
//!
//! A child cloned with `CLONE_NEWUSER` has every capability, but only over
//! the namespaces its new user namespace owns, and clone creates the user
//! namespace first so that it owns all the others made by the same call.
//! That is what lets an unprivileged user create every other type of
//! namespace: the kernel asks for `CAP_SYS_ADMIN` in the user namespace that
//! will own them, and there the child has it.
//!
//! Until its id maps are written the child has no identity: its uid and gid
//! read as the overflow id 65534 (`nobody`), and execve(2) would drop its
//! capabilities. So the child waits (see `crate::command`), and the parent,
//! which stays in the original user namespace, writes three files of
//! `/proc/PID` (user_namespaces(7)), each in a single write:
//!
//! 1. `uid_map`: `0 UID 1` maps id 0 inside to the invoking user's
//!    effective uid outside, one id long. An unprivileged writer may map
//!    only its own effective uid, and only once.
//! 2. `setgroups`: `deny`. Without `CAP_SETGID` in the parent namespace, the
//!    kernel accepts a `gid_map` only once setgroups(2) is disabled in the
//!    child's namespace, since otherwise the child could drop a group that
//!    a file's permissions use to shut it out.
//! 3. `gid_map`: `0 GID 1`, the same for the effective gid.
//!
//! Files the command creates then belong to the invoking user on the host;
//! files of any other uid show inside as 65534. Distributions may restrict
//! unprivileged user namespaces (a sysctl, or AppArmor on Ubuntu 23.10+,
//! which lets the namespace be created but strips the capabilities in it).

use core::fmt::{self, Write};

use syscalls::Errno;

use crate::namespace::write_proc;
use crate::sys::{self, Pid};
use crate::text::FixedBuf;

/// The id maps that make the invoking user root (0) inside a new user
/// namespace, as `unshare --map-root-user` does. Prepared before clone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdMaps {
    /// The uid outside that is 0 inside.
    pub uid: u32,
    /// The gid outside that is 0 inside.
    pub gid: u32,
}

/// The three files the parent writes, in the order it writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapFile {
    /// `/proc/PID/uid_map`.
    UidMap,
    /// `/proc/PID/setgroups`.
    Setgroups,
    /// `/proc/PID/gid_map`.
    GidMap,
}

impl MapFile {
    /// The file's name in `/proc/PID/`.
    pub const fn name(self) -> &'static str {
        match self {
            MapFile::UidMap => "uid_map",
            MapFile::Setgroups => "setgroups",
            MapFile::GidMap => "gid_map",
        }
    }

    fn why(self) -> &'static str {
        match self {
            MapFile::UidMap => "the child's uid map: uid 0 inside is the caller's uid outside",
            MapFile::Setgroups => {
                "\"deny\" must come before gid_map when the writer is not privileged"
            }
            MapFile::GidMap => "the child's gid map: gid 0 inside is the caller's gid outside",
        }
    }
}

/// A map's text: `0 1000 1`, inside id, outside id, count.
pub type MapText = FixedBuf<40>;

/// A map that failed to be written: which file, what, and the kernel's
/// answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapFailed {
    /// The file.
    pub file: MapFile,
    /// The child's pid, in the file's path.
    pub pid: Pid,
    /// The id mapped to 0 (unused for setgroups).
    pub id: u32,
    /// What the kernel answered.
    pub errno: Errno,
}

impl fmt::Display for MapFailed {
    /// The call, as messages name it: `write("/proc/42/uid_map", "0 1000 1")`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let MapFailed { file, pid, id, .. } = *self;
        write!(f, "write(\"/proc/{pid}/{}\", ", file.name())?;
        match file {
            MapFile::Setgroups => f.write_str("\"deny\")"),
            _ => write!(f, "\"0 {id} 1\")"),
        }
    }
}

impl IdMaps {
    /// Map the caller's effective uid and gid to 0.
    pub fn root() -> IdMaps {
        IdMaps {
            uid: sys::geteuid(),
            gid: sys::getegid(),
        }
    }

    /// Write the maps of process `pid`, in the kernel's order: `uid_map`,
    /// `deny` to `setgroups`, `gid_map`. Run by the parent while the child
    /// waits.
    pub fn write(&self, pid: Pid) -> Result<(), MapFailed> {
        self.write_file(pid, MapFile::UidMap, self.uid)?;
        // setgroups exists since Linux 3.19; before it, gid_map needed no
        // such step, so its absence is no error (util-linux does the same).
        match self.write_file(pid, MapFile::Setgroups, 0) {
            Err(MapFailed {
                errno: Errno::ENOENT,
                ..
            }) => {}
            other => other?,
        }
        self.write_file(pid, MapFile::GidMap, self.gid)
    }

    fn write_file(&self, pid: Pid, file: MapFile, id: u32) -> Result<(), MapFailed> {
        let mut path = FixedBuf::<64>::new();
        let _ = write!(path, "/proc/{pid}/{}", file.name());
        let mut text = MapText::new();
        let _ = match file {
            MapFile::Setgroups => text.write_str("deny"),
            _ => writeln!(text, "0 {id} 1"),
        };
        let path = path.c_str().unwrap_or_default();
        write_proc(path, text.as_bytes(), file.why()).map_err(|errno| MapFailed {
            file,
            pid,
            id,
            errno,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_name_the_file_and_the_text() {
        let failed = |file| MapFailed {
            file,
            pid: 42,
            id: 1000,
            errno: Errno::EPERM,
        };
        assert_eq!(
            failed(MapFile::UidMap).to_string(),
            r#"write("/proc/42/uid_map", "0 1000 1")"#
        );
        assert_eq!(
            failed(MapFile::Setgroups).to_string(),
            r#"write("/proc/42/setgroups", "deny")"#
        );
    }

    #[test]
    fn root_maps_the_effective_ids_the_kernel_reports() {
        // /proc/self/status, read independently: "Uid: real effective ...".
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let effective = |key: &str| -> u32 {
            let line = status.lines().find(|l| l.starts_with(key)).unwrap();
            line.split_whitespace().nth(2).unwrap().parse().unwrap()
        };
        let maps = IdMaps::root();
        assert_eq!((maps.uid, maps.gid), (effective("Uid:"), effective("Gid:")));
    }
}
