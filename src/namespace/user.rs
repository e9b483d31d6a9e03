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

use std::ffi::CString;

use crate::error::Error;
use crate::namespace::write_proc;
use crate::sys::{self, Pid};

/// The id maps that make the invoking user root (0) inside a new user
/// namespace, as `unshare --map-root-user` does. Prepared before clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdMaps {
    uid: u32,
    gid: u32,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
}

impl IdMaps {
    /// Map the caller's effective uid and gid to 0.
    pub fn root() -> IdMaps {
        IdMaps::root_for(sys::geteuid(), sys::getegid())
    }

    /// Map `uid` and `gid` (outside) to 0 (inside).
    pub fn root_for(uid: u32, gid: u32) -> IdMaps {
        IdMaps {
            uid,
            gid,
            uid_map: format!("0 {uid} 1\n").into_bytes(),
            gid_map: format!("0 {gid} 1\n").into_bytes(),
        }
    }

    /// The uid outside that is 0 inside.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The gid outside that is 0 inside.
    pub fn gid(&self) -> u32 {
        self.gid
    }

    /// Write the maps of process `pid`, in the kernel's order: `uid_map`,
    /// `deny` to `setgroups`, `gid_map`. Run by the parent while the child
    /// waits.
    pub fn write(&self, pid: Pid) -> Result<(), Error> {
        write_file(pid, "uid_map", &self.uid_map)?;
        // setgroups exists since Linux 3.19; before it, gid_map needed no
        // such step, so its absence is no error (util-linux does the same).
        match write_file(pid, "setgroups", b"deny") {
            Err(Error::Syscall {
                errno: syscalls::Errno::ENOENT,
                ..
            }) => {}
            other => other?,
        }
        write_file(pid, "gid_map", &self.gid_map)
    }
}

/// Write `text` to `/proc/PID/NAME`.
fn write_file(pid: Pid, name: &str, text: &[u8]) -> Result<(), Error> {
    let path = format!("/proc/{pid}/{name}");
    let c_path = CString::new(path.as_str()).expect("no NUL in a /proc path");
    write_proc(&c_path, text).map_err(|errno| {
        let text = String::from_utf8_lossy(text);
        Error::syscall(format!("write({path:?}, {text:?})"), errno)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_put_the_caller_at_zero() {
        let maps = IdMaps::root_for(1000, 100);
        assert_eq!(maps.uid_map, b"0 1000 1\n");
        assert_eq!(maps.gid_map, b"0 100 1\n");
        assert_eq!((maps.uid(), maps.gid()), (1000, 100));
    }

    #[test]
    fn root_maps_the_effective_ids() {
        let maps = IdMaps::root();
        assert_eq!(maps.uid(), sys::geteuid());
        assert_eq!(maps.gid(), sys::getegid());
    }
}
