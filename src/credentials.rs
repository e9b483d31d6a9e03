//! Credentials: nsclone refuses to run with more rights than its caller.
//!
//! A program installed set-user-ID root runs with the effective uid of its
//! owner but the real uid of whoever started it. nsclone runs any command
//! its caller names, and the command would inherit the effective ids: a
//! set-user-ID nsclone would hand every user a root shell. So before it does
//! anything else, nsclone compares its real and effective ids and stops if
//! they differ. To let users create namespaces, give them sudo rights to
//! nsclone instead (bubblewrap takes the same care of its own set-user-ID
//! mode). See credentials(7).
//!
//! The kernel says it at exec, on the new program's stack ([`crate::start`]):
//! `AT_UID`, `AT_EUID`, `AT_GID`, `AT_EGID`, and `AT_SECURE`, which is also
//! set for a program given file capabilities (setcap(8)), whose ids do not
//! differ. The nsclone binary reads those, without a system call; a library
//! caller asks getresuid(2) and getresgid(2) ([`Ids::of_caller`]).

use core::fmt;

use crate::start::InitialStack;
use crate::sys;

/// Who runs the program, and with whose rights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ids {
    /// Real and effective user id.
    pub uid: (u32, u32),
    /// Real and effective group id.
    pub gid: (u32, u32),
    /// Whether the kernel runs the program in "secure mode" (`AT_SECURE`):
    /// with more rights than its caller, by set-user-ID, set-group-ID or
    /// file capabilities.
    pub secure: bool,
}

impl Ids {
    /// As the kernel gave them at exec, on the initial stack.
    pub fn at_exec(stack: &InitialStack) -> Ids {
        let aux = |key: u64| stack.aux(key as usize).unwrap_or(0) as u32;
        Ids {
            uid: (aux(libc::AT_UID), aux(libc::AT_EUID)),
            gid: (aux(libc::AT_GID), aux(libc::AT_EGID)),
            secure: aux(libc::AT_SECURE) != 0,
        }
    }

    /// The calling process's ids now, from getresuid(2) and getresgid(2).
    /// A saved id that differs (a caller that dropped its privileges) is
    /// reset to the effective one by execve: the command cannot regain it.
    pub fn of_caller() -> Ids {
        let (ruid, euid, _) = sys::getresuid();
        let (rgid, egid, _) = sys::getresgid();
        Ids {
            uid: (ruid, euid),
            gid: (rgid, egid),
            secure: false,
        }
    }

    /// Refuse to go on if the program runs with more rights than its
    /// caller.
    pub fn refuse_more_rights(self) -> Result<(), Refused> {
        for (kind, (real, effective)) in [("uid", self.uid), ("gid", self.gid)] {
            if real != effective {
                return Err(Refused::SetId {
                    kind,
                    real,
                    effective,
                });
            }
        }
        match self.secure {
            true => Err(Refused::Secure),
            false => Ok(()),
        }
    }
}

/// Why nsclone refuses to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Real and effective ids differ: set-user-ID or set-group-ID.
    SetId {
        /// `"uid"` or `"gid"`.
        kind: &'static str,
        /// The real id: who started nsclone.
        real: u32,
        /// The effective id: whose rights it would use.
        effective: u32,
    },
    /// The kernel runs it in secure mode with equal ids: file capabilities.
    Secure,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Refused::SetId {
                kind,
                real,
                effective,
            } => {
                let bit = if kind == "uid" { "user" } else { "group" };
                write!(
                    f,
                    "refusing to run set-{bit}-ID (real {kind} {real}, effective {kind} \
                     {effective}): it would run any command with those rights; remove the bit \
                     (chmod u-s,g-s) and use sudo instead"
                )
            }
            Refused::Secure => f.write_str(
                "refusing to run with more rights than its caller (AT_SECURE: file \
                 capabilities?): it would run any command with them; remove them \
                 (setcap -r) and use sudo instead",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(uid: (u32, u32), gid: (u32, u32)) -> Ids {
        Ids {
            uid,
            gid,
            secure: false,
        }
    }

    #[test]
    fn equal_ids_are_fine() {
        assert_eq!(ids((0, 0), (0, 0)).refuse_more_rights(), Ok(()));
        assert_eq!(ids((1000, 1000), (100, 100)).refuse_more_rights(), Ok(()));
    }

    #[test]
    fn setuid_setgid_and_secure_mode_are_refused() {
        let uid = ids((1000, 0), (100, 100)).refuse_more_rights().unwrap_err();
        assert_eq!(
            uid,
            Refused::SetId {
                kind: "uid",
                real: 1000,
                effective: 0
            }
        );
        let gid = ids((1000, 1000), (100, 0))
            .refuse_more_rights()
            .unwrap_err();
        assert!(uid.to_string().starts_with("refusing to run set-user-ID"));
        assert!(gid.to_string().contains("set-group-ID (real gid 100"));
        assert!(!uid.to_string().contains('\n'));
        let caps = Ids {
            secure: true,
            ..ids((0, 0), (0, 0))
        };
        assert_eq!(caps.refuse_more_rights(), Err(Refused::Secure));
    }

    #[test]
    fn the_callers_ids_are_the_kernels() {
        // /proc/self/status: "Uid: real effective saved fs", read with std.
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let two = |key: &str| -> (u32, u32) {
            let line = status.lines().find(|l| l.starts_with(key)).unwrap();
            let mut ids = line.split_whitespace().skip(1).map(|n| n.parse().unwrap());
            (ids.next().unwrap(), ids.next().unwrap())
        };
        let caller = Ids::of_caller();
        assert_eq!((caller.uid, caller.gid), (two("Uid:"), two("Gid:")));
        assert_eq!(caller.refuse_more_rights(), Ok(()));
    }
}
