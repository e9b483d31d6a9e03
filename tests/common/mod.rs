//! Helpers shared by the integration tests: the built binary, the privilege
//! check, and a snapshot of the host that must never change.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::process::{Command, Output};

/// The nsclone binary that cargo built for these tests.
pub fn nsclone() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nsclone"))
}

/// The release build of nsclone (which `make install` installs and the
/// docs' sessions run): beside the test build, in `release/` instead of
/// `debug/` (under `target/` or `target/TRIPLE/`).
pub fn release_binary() -> std::path::PathBuf {
    let debug = std::path::Path::new(env!("CARGO_BIN_EXE_nsclone"));
    debug
        .parent()
        .unwrap()
        .with_file_name("release")
        .join("nsclone")
}

/// The repository's top directory.
pub fn repo() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Start `command` with descriptors 0, 1 and 2 alone, as a shell starts a
/// command: traces and docs name nsclone's descriptors by number
/// (`pidfd_open(PID, 0) = 3`), and one inherited from whatever started
/// this test (`flock LOCK cargo test` leaves its lock open on 3) would
/// shift them.
pub fn only_standard_descriptors(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: close_range(2) is async-signal-safe and touches no memory
    // (called raw: glibc has a wrapper only since 2.34).
    // CLOSE_RANGE_CLOEXEC leaves the descriptors open until the exec, so
    // std's own pipe (close-on-exec already) keeps working.
    unsafe {
        command.pre_exec(|| {
            let (first, last) = (3 as libc::c_uint, libc::c_uint::MAX);
            let flags = libc::CLOSE_RANGE_CLOEXEC;
            match libc::syscall(libc::SYS_close_range, first, last, flags) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        })
    }
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

    /// Panic unless the host differs from this snapshot by exactly the
    /// mount points `extra`, added (the bind mounts `--keep` makes, which
    /// change the host's mount table by design until released).
    pub fn assert_unchanged_but_mounts(&self, extra: &[&std::path::Path]) {
        let mut mounts = self.mounts.clone();
        for path in extra {
            let path = path.to_str().expect("a path in UTF-8");
            assert!(
                !path.contains([' ', '\t', '\n', '\\']),
                "{path:?}: as mountinfo escapes it"
            );
            assert!(mounts.insert(path.to_owned()), "{path} was mounted before");
        }
        let expected = Host {
            hostname: self.hostname.clone(),
            mounts,
            interfaces: self.interfaces.clone(),
        };
        assert_eq!(
            Host::snapshot(),
            expected,
            "the host changed, but for {extra:?}"
        );
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

impl HostGuard {
    /// [`Host::assert_unchanged_but_mounts`], against the guard's snapshot.
    pub fn assert_unchanged_but_mounts(&self, extra: &[&std::path::Path]) {
        self.0.assert_unchanged_but_mounts(extra);
    }
}

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
fn env_with_path(path: &str) -> (Vec<std::ffi::CString>, Vec<*const std::ffi::c_char>) {
    let strings = vec![std::ffi::CString::new(format!("PATH={path}")).unwrap()];
    let mut ptrs: Vec<_> = strings.iter().map(|s| s.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    (strings, ptrs)
}

/// Run the child's real work on a stack of our own, in a new UTS
/// namespace, sharing this process's memory until it execs
/// (`CLONE_VM|CLONE_VFORK`): the namespace check, sethostname, the signal
/// mask, and a PATH search for `argv` that fails twice before the exec.
/// Returns how the child ended and how many bytes of its stack it used:
/// mmap zero-filled the stack and we sleep until the child has exec'd, so
/// what it wrote is what is no longer zero. The stack is unmapped before
/// this returns.
pub fn stack_used_by_the_child(argv: &[&[u8]]) -> (nsclone::WaitStatus, usize) {
    use nsclone::arch::PAGE_SIZE;
    use nsclone::namespace::{Namespace, NsId};
    let stack = nsclone::stack::Stack::new().unwrap();
    let (_env, envp) = env_with_path("/no/such/dir:/etc/passwd:/usr/bin:/bin");
    let argv = nsclone::exec::Argv::owned(argv.iter().copied()).unwrap();
    // SAFETY: `envp` is NULL-terminated and outlives the plan.
    let mut plan = unsafe { nsclone::exec::ExecPlan::with_environment(&argv, envp.as_ptr()) };
    let parent_uts = NsId::of_self(Namespace::Uts).unwrap();
    let mut child = || {
        // The same guard as the real child: never touch the host's name.
        if NsId::of_self(Namespace::Uts) == Ok(parent_uts) {
            return 99;
        }
        let _ = nsclone::sys::sethostname(b"deep");
        let _ = nsclone::sys::sigprocmask(libc::SIG_SETMASK, nsclone::signal::SigSet::EMPTY);
        plan.exec().exit_code()
    };
    let flags = libc::CLONE_NEWUTS | libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
    // SAFETY: the closure only makes system calls; with CLONE_VFORK we sleep
    // until it has exec'd, and it writes nothing we read but its stack.
    let pid = unsafe { nsclone::clone::clone(flags as u64, &stack, &mut child) }.unwrap();
    let status = wait(pid);
    let low = stack.guard() as usize + PAGE_SIZE;
    let usable = stack.top() as usize - low;
    // SAFETY: the mapping is alive and readable above the guard page, and
    // the child no longer runs on it.
    let bytes = unsafe { std::slice::from_raw_parts(low as *const u8, usable) };
    let used = usable - bytes.iter().take_while(|&&b| b == 0).count();
    (status, used)
}

/// How long one launch may take before a test calls it hung: generous, so
/// that a loaded machine never trips it, and finite, so that a deadlock
/// fails the test instead of stalling the suite.
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

/// Wait for the process `pid`, started in a process group of its own (its
/// pid is the group's id), at most [`DEADLINE`]. On time-out, kill the whole
/// group with SIGKILL (nsclone may block SIGTERM, and its child may be
/// stuck as well), reap it, and panic naming `what`. Returns the raw wait
/// status.
pub fn wait_pid_within(pid: libc::pid_t, what: &str) -> libc::c_int {
    assert!(pid > 0, "{what}: no process to wait for");
    let start = std::time::Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes the status into a local.
        let got = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if got == pid {
            return status;
        }
        assert!(
            got == 0,
            "{what}: waitpid: {}",
            std::io::Error::last_os_error()
        );
        if start.elapsed() > DEADLINE {
            // SAFETY: plain system calls on the group this test started.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            panic!("{what}: still running after {DEADLINE:?}, killed (a hang)");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Finish `child`, spawned with `process_group(0)`: read its piped output,
/// if any, and wait for it at most [`DEADLINE`] (see [`wait_pid_within`]).
pub fn finish_within(mut child: std::process::Child, what: &str) -> Output {
    use std::io::Read;
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = reader(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = reader(child.stderr.take().map(|p| Box::new(p) as _));
    drop(child.stdin.take());
    let raw = wait_pid_within(child.id() as libc::pid_t, what);
    use std::os::unix::process::ExitStatusExt;
    Output {
        status: std::process::ExitStatus::from_raw(raw),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Run `command` in a process group of its own, stdin from /dev/null,
/// capturing its output, under [`DEADLINE`].
pub fn run_within(command: &mut Command, what: &str) -> Output {
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    let child = command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    finish_within(child, what)
}

/// A clock's value in whole seconds (CLOCK_MONOTONIC, CLOCK_BOOTTIME, ...).
pub fn clock_secs(id: libc::clockid_t) -> i64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the timespec.
    assert_eq!(unsafe { libc::clock_gettime(id, &mut now) }, 0);
    now.tv_sec
}

/// setpriv's arguments that drop every privilege: uid and gid 65534
/// (`nobody`), no supplementary groups.
pub const NOBODY: [&str; 3] = ["--reuid=65534", "--regid=65534", "--clear-groups"];

/// Whether uid 65534 may create a user namespace here, asked of
/// util-linux's unshare so that a broken nsclone cannot skip its own tests.
pub fn unprivileged_user_namespaces() -> Result<(), &'static str> {
    static ANSWER: std::sync::OnceLock<Result<(), &'static str>> = std::sync::OnceLock::new();
    *ANSWER.get_or_init(|| {
        let probe = Command::new("setpriv")
            .args(NOBODY)
            .args(["unshare", "--user", "true"])
            .current_dir("/")
            .output();
        match probe {
            Err(_) => Err("setpriv is not installed (util-linux)"),
            Ok(out) if out.status.success() => Ok(()),
            Ok(_) => Err("this kernel refuses unprivileged user namespaces \
                          (sysctl, or AppArmor's restriction)"),
        }
    })
}

/// `path`, or a copy that uid 65534 can execute when `path` lies in a
/// directory it cannot enter (a checkout under /root, say). The copy's
/// directory is removed when the returned guard is dropped.
pub fn executable_by_nobody(
    path: &std::path::Path,
) -> (std::path::PathBuf, Option<tempfile::TempDir>) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let others_may =
        |p: &std::path::Path, bit| std::fs::metadata(p).is_ok_and(|m| m.mode() & bit != 0);
    let reachable = path.ancestors().skip(1).all(|dir| others_may(dir, 0o001));
    if reachable && others_may(path, 0o001) && others_may(path, 0o004) {
        return (path.to_owned(), None);
    }
    let dir = tempdir();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = dir.path().join(path.file_name().unwrap());
    std::fs::copy(path, &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    (copy, Some(dir))
}

/// nsclone as uid and gid 65534, through setpriv, run from `/`, ready for
/// arguments (no `--user` added). Keep the second value alive while it
/// runs: a copy of the binary that 65534 can execute, if one was needed.
pub fn nsclone_as_nobody() -> (Command, Option<tempfile::TempDir>) {
    let (bin, copy) = executable_by_nobody(std::path::Path::new(env!("CARGO_BIN_EXE_nsclone")));
    let mut command = Command::new("setpriv");
    command.args(NOBODY).arg(bin).current_dir("/");
    (command, copy)
}

/// Who runs nsclone, in the tests that run each case both ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// The test's own user: root, here and in CI.
    Invoker,
    /// uid and gid 65534 (`nobody`), through setpriv, with `--user` added,
    /// which is how a user without privileges gets every other namespace.
    Nobody,
}

/// nsclone as `who`, ready for arguments; for [`Who::Nobody`], `--user` is
/// added (see [`nsclone_as_nobody`] for the second value).
pub fn nsclone_as(who: Who) -> (Command, Option<tempfile::TempDir>) {
    match who {
        Who::Invoker => (nsclone(), None),
        Who::Nobody => {
            let (mut command, copy) = nsclone_as_nobody();
            command.arg("--user");
            (command, copy)
        }
    }
}

/// Whether `test` can run as `who`, saying loudly why not. Root is needed
/// either way: setpriv switches users only for root.
pub fn can_run(who: Who, test: &str) -> bool {
    if !privileged(test) {
        return false;
    }
    match (who, unprivileged_user_namespaces()) {
        (Who::Nobody, Err(why)) => skip(&format!("{test} (as uid 65534)"), why),
        _ => true,
    }
}

/// Whom `test` can run as: both; only the invoker where the kernel refuses
/// unprivileged user namespaces; no one without root (said loudly).
pub fn who_can_run(test: &str) -> Vec<Who> {
    if !privileged(test) {
        return vec![];
    }
    [Who::Invoker, Who::Nobody]
        .into_iter()
        .filter(|&who| can_run(who, test))
        .collect()
}

/// How a run ended, for messages: `exit N` or `killed by signal N`.
pub fn ending(out: &Output) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (out.status.code(), out.status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => format!("{:?}", out.status),
    }
}
