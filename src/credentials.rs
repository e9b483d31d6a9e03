//! Credentials: nsclone refuses to run set-user-ID or set-group-ID.
//!
//! A program installed set-user-ID root runs with the effective uid of its
//! owner but the real uid of whoever started it. nsclone runs any command
//! its caller names, and the command would inherit the effective ids: a
//! set-user-ID nsclone would hand every user a root shell. So before it does
//! anything else, nsclone compares its real and effective ids, as returned
//! by getresuid(2) and getresgid(2), and stops if they differ. To let users
//! create namespaces, give them sudo rights to nsclone instead (bubblewrap
//! takes the same care of its own set-user-ID mode). See credentials(7).

use std::fmt;

use crate::sys;

/// Real and effective ids that differ: nsclone was started set-user-ID or
/// set-group-ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetuidRefused {
    /// `"uid"` or `"gid"`.
    pub kind: &'static str,
    /// The real id: who started nsclone.
    pub real: u32,
    /// The effective id: whose rights it would use.
    pub effective: u32,
}

impl fmt::Display for SetuidRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let SetuidRefused {
            kind,
            real,
            effective,
        } = self;
        let bit = if *kind == "uid" { "user" } else { "group" };
        write!(
            f,
            "refusing to run set-{bit}-ID (real {kind} {real}, effective {kind} {effective}): \
             it would run any command with those rights; remove the bit (chmod u-s,g-s) \
             and use sudo instead"
        )
    }
}

/// Refuse to go on if the real and effective user or group ids differ.
pub fn refuse_setuid() -> Result<(), SetuidRefused> {
    check(sys::getresuid(), sys::getresgid())
}

/// The policy alone, on `(real, effective, saved)` ids as the kernel
/// returns them.
fn check(uids: (u32, u32, u32), gids: (u32, u32, u32)) -> Result<(), SetuidRefused> {
    for (kind, (real, effective, _)) in [("uid", uids), ("gid", gids)] {
        if real != effective {
            return Err(SetuidRefused {
                kind,
                real,
                effective,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_ids_are_fine() {
        assert_eq!(check((0, 0, 0), (0, 0, 0)), Ok(()));
        assert_eq!(check((1000, 1000, 1000), (100, 100, 100)), Ok(()));
        // A saved id that differs (a caller that dropped its privileges)
        // is reset to the effective one by execve: the command cannot
        // regain it.
        assert_eq!(check((1000, 1000, 0), (100, 100, 100)), Ok(()));
    }

    #[test]
    fn setuid_and_setgid_are_refused() {
        let uid = check((1000, 0, 0), (100, 100, 100)).unwrap_err();
        assert_eq!((uid.kind, uid.real, uid.effective), ("uid", 1000, 0));
        let gid = check((1000, 1000, 1000), (100, 0, 0)).unwrap_err();
        assert_eq!((gid.kind, gid.real, gid.effective), ("gid", 100, 0));
        assert!(uid.to_string().starts_with("refusing to run set-user-ID"));
        assert!(gid.to_string().contains("set-group-ID (real gid 100"));
        assert!(!uid.to_string().contains('\n'));
    }

    #[test]
    fn the_test_runner_is_not_setuid() {
        assert_eq!(refuse_setuid(), Ok(()));
    }
}
