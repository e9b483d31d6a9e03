//! nsclone must never be installed set-user-ID or set-group-ID: it runs any
//! command its caller names, which would then run with nsclone's owner's
//! rights. It refuses to run so installed, before it does anything else.
//!
//! The test installs a copy so, in a temporary directory, and runs it as
//! another user (nobody) through setpriv(1).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use common::{Host, NOBODY, privileged, skip, stderr, tempdir};

/// Run `binary` as uid and gid 65534 (nobody) with no supplementary groups,
/// asking it to print something: if it printed, it ran the command.
fn as_nobody(binary: &Path) -> Output {
    std::process::Command::new("setpriv")
        .args(NOBODY)
        .arg("--")
        .arg(binary)
        .args(["-q", "echo", "the command ran"])
        .output()
        .expect("setpriv (util-linux) runs")
}

#[test]
fn a_set_user_id_or_set_group_id_nsclone_refuses_to_run() {
    if !privileged("setuid refusal") {
        return;
    }
    let _host = Host::guard();
    let dir = tempdir();
    // nobody must be able to reach the copy.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = dir.path().join("nsclone");
    std::fs::copy(env!("CARGO_BIN_EXE_nsclone"), &copy).unwrap();

    // Installed plainly, nobody gets past the checks to clone, which the
    // kernel refuses: the refusal below is nsclone's, not the kernel's.
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = as_nobody(&copy);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("clone(CLONE_NEWUTS|SIGCHLD): EPERM"),
        "{}",
        stderr(&out)
    );

    // The copy belongs to root (we are root), so set-user-ID makes its
    // effective uid 0; set-group-ID, its effective gid 0.
    for (mode, expected) in [
        (
            0o4755,
            "nsclone: refusing to run set-user-ID (real uid 65534, effective uid 0): ",
        ),
        (
            0o2755,
            "nsclone: refusing to run set-group-ID (real gid 65534, effective gid 0): ",
        ),
    ] {
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(mode)).unwrap();
        let out = as_nobody(&copy);
        let err = stderr(&out);
        if err.contains("clone(CLONE_NEWUTS|SIGCHLD): EPERM") {
            // The bit had no effect: the file system is mounted nosuid.
            skip(
                "setuid refusal",
                &format!("{} is on a nosuid file system", dir.path().display()),
            );
            return;
        }
        assert_eq!(out.status.code(), Some(125), "mode {mode:o}: {err}");
        assert!(err.starts_with(expected), "mode {mode:o}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(out.stdout.is_empty(), "mode {mode:o}: the command ran");
    }
}
