//! Helpers shared by the integration tests: the built binary, the privilege
//! check, and a snapshot of the host that must never change.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::process::{Command, Output};

/// The nsclone binary that cargo built for these tests.
pub fn nsclone() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nsclone"))
}

/// Run nsclone with `args`, capturing everything.
pub fn run(args: &[&str]) -> Output {
    nsclone().args(args).output().expect("nsclone runs")
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Whether this test may create namespaces (it needs root). When it cannot,
/// it says so loudly; under CI (CI=true) a skip is a failure, so that no
/// privileged test ever passes silently where it should have run.
pub fn privileged(test: &str) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .expect("Uid line");
    if euid == "0" {
        return true;
    }
    skip(
        test,
        &format!("needs root to create namespaces (euid {euid})"),
    )
}

/// Say loudly that `test` cannot run, and why; under CI (CI=true) panic
/// instead, since there every test must run. Returns false, for
/// `if !condition { return skip(...) }`.
pub fn skip(test: &str, why: &str) -> bool {
    let message = format!("SKIPPED {test}: {why}");
    if std::env::var_os("CI").is_some_and(|v| v == "true") {
        panic!("{message}, and CI must run it");
    }
    eprintln!("\n!!!!! {message} !!!!!\n");
    false
}

/// Whether the running kernel is at least `major.minor`, read from
/// /proc/sys/kernel/osrelease (not from nsclone, whose own answer a test
/// must not trust to decide whether to run).
pub fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let mut number = || -> u32 { parts.next().unwrap_or("").parse().unwrap_or(0) };
    (number(), number()) >= (major, minor)
}

/// Whether `test` can run under strace: root (for the namespaces) and
/// strace installed. When it cannot, it says so loudly, as [`skip`] does.
pub fn can_strace(test: &str) -> bool {
    let strace = Command::new("strace")
        .arg("-V")
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    privileged(test) && (strace || skip(test, "strace is not installed (apt-get install strace)"))
}

/// Run `nsclone ARGS` under `strace -f`, tracing the calls that create
/// processes and the ones the launch is about, with a fixed PATH; returns
/// strace's log, one line per call, each prefixed with the caller's pid.
pub fn strace_launch(args: &[&str]) -> String {
    let dir = tempdir();
    let log = dir.path().join("strace.log");
    let status = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=clone,clone3,fork,vfork,execve,sethostname",
        ])
        .arg("-o")
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_nsclone"))
        .args(args)
        .env("PATH", "/usr/bin:/bin")
        .status()
        .unwrap();
    assert!(
        status.success(),
        "nsclone {args:?} under strace: {status:?}"
    );
    std::fs::read_to_string(&log).unwrap()
}

/// What of the host a launch could change by mistake.
#[derive(Debug, PartialEq, Eq)]
pub struct Host {
    hostname: String,
    mounts: BTreeSet<String>,
    interfaces: BTreeSet<String>,
}

impl Host {
    /// The host as it is now: hostname, mount points, network interfaces.
    pub fn snapshot() -> Host {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let mounts = mountinfo
            .lines()
            .map(|l| l.split(' ').nth(4).unwrap_or("").to_owned())
            .collect();
        let interfaces = std::fs::read_dir("/sys/class/net")
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        Host {
            hostname: std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
            mounts,
            interfaces,
        }
    }

    /// Panic if the host differs from this snapshot.
    pub fn assert_unchanged(&self) {
        assert_eq!(&Host::snapshot(), self, "the host changed");
    }

    /// A snapshot that checks itself when dropped: `let _host =
    /// Host::guard();` first in a test asserts, however the test ends, that
    /// the host is as it was. (Not while the test is already failing: a
    /// second panic would hide the first.)
    pub fn guard() -> HostGuard {
        HostGuard(Host::snapshot())
    }
}

/// See [`Host::guard`].
pub struct HostGuard(Host);

impl Drop for HostGuard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.0.assert_unchanged();
        }
    }
}

/// How many times a soak test repeats: `quick` in `make test`, `full` with
/// `NSCLONE_SOAK=full` in the environment.
pub fn soak(quick: usize, full: usize) -> usize {
    match std::env::var("NSCLONE_SOAK").as_deref() {
        Ok("full") => full,
        _ => quick,
    }
}

/// A fresh temporary directory, removed when dropped. The tests execute
/// files there, some as uid 65534 and some set-user-ID, so it is the
/// system's temporary directory unless that is mounted noexec or nosuid (a
/// common hardening of /tmp): then cargo's own temporary directory, if
/// every user can reach it.
pub fn tempdir() -> tempfile::TempDir {
    let system = std::env::temp_dir();
    let target = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let parent = [&system, &target]
        .into_iter()
        .find(|dir| runs_anything(dir))
        .unwrap_or(&system);
    tempfile::Builder::new()
        .prefix("nsclone-test-")
        .tempdir_in(parent)
        .unwrap()
}

/// Whether files in `dir` can be executed by any user, set-user-ID bits
/// included: its file system is neither noexec nor nosuid (statvfs(3)), and
/// it and every directory above it may be searched by others.
fn runs_anything(dir: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a zeroed statvfs is a valid value for statvfs(3) to fill.
    let mut fs: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a C string, `fs` a place for the answer.
    if unsafe { libc::statvfs(path.as_ptr(), &mut fs) } != 0 {
        return false;
    }
    let searchable = |d: &std::path::Path| {
        std::fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o001 != 0)
    };
    fs.f_flag & (libc::ST_NOEXEC | libc::ST_NOSUID) == 0 && dir.ancestors().all(searchable)
}

/// Write an executable file `name` containing `text` into `dir`.
pub fn executable(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Wait for child `pid` of this process to end, and reap it.
pub fn wait(pid: i32) -> nsclone::WaitStatus {
    nsclone::sys::wait4(pid, 0)
        .expect("wait4")
        .expect("a status without WNOHANG")
}

/// An environment of one variable, `PATH=path`, as execve takes it: the
/// strings, and the NULL-terminated array of pointers into them.
pub fn env_with_path(path: &str) -> (Vec<std::ffi::CString>, Vec<*const std::ffi::c_char>) {
    let strings = vec![std::ffi::CString::new(format!("PATH={path}")).unwrap()];
    let mut ptrs: Vec<_> = strings.iter().map(|s| s.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    (strings, ptrs)
}
