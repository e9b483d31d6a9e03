//! The command is found and run exactly as glibc's execvp(3) would, and a
//! failure is reported as env(1) reports it: the errno, and exit 127 for
//! ENOENT, 126 for any other.
//!
//! The last test is the reference for the rest: on generated file trees and
//! PATHs, it runs glibc's own `execvp` in a forked child of this test and
//! `nsclone -q prog`, and compares what ran, or the errno.

mod common;

use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output};
use std::ptr::null;

use proptest::prelude::*;

use common::{
    Host, Who, can_run, ending, nsclone, nsclone_as_nobody, privileged, run_within, soak, stderr,
    stdout, tempdir, wait_pid_within,
};

const NSCLONE: &str = env!("CARGO_BIN_EXE_nsclone");

/// nsclone could not execute the command: it ended with `code` (env(1)'s
/// 126 or 127), and said so in exactly one line, naming `errno`; that line
/// is returned.
fn exec_failed(out: &Output, code: i32, errno: &str) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{}: {err}", ending(out));
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.contains(errno), "no {errno}: {err}");
    err
}

// ---------------------------------------------------------------------------
// The cases the issue names.
// ---------------------------------------------------------------------------

/// glibc passes over a PATH entry longer than PATH_MAX (it could not hold
/// it); nsclone must not stop its search there.
#[test]
fn a_path_entry_longer_than_path_max_is_passed_over() {
    if !privileged("a PATH entry longer than PATH_MAX") {
        return;
    }
    let _host = Host::guard();
    let path = format!("/{}:/usr/bin:/bin", "a".repeat(5000));
    let out = run_within(
        nsclone().args(["-q", "true"]).env("PATH", path),
        "PATH=/aaa...:/usr/bin nsclone -q true",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        ending(&out),
        stderr(&out)
    );
}

/// An explicit path through a regular file: execve says ENOTDIR, which is
/// "cannot execute" (126), as env(1), unshare(1) and bash report it, not
/// "not found".
#[test]
fn an_explicit_path_through_a_file_is_enotdir_and_126() {
    if !privileged("ENOTDIR") {
        return;
    }
    let _host = Host::guard();
    for program in ["/bin/true/", "/etc/passwd/x"] {
        let out = run_within(nsclone().args(["-q", program]), program);
        exec_failed(&out, 126, "ENOTDIR (Not a directory)");
    }
}

/// The first of /bin/cat and /usr/bin/cat that exists.
fn cat() -> &'static CStr {
    [c"/bin/cat", c"/usr/bin/cat"]
        .into_iter()
        .find(|p| Path::new(OsStr::from_bytes(p.to_bytes())).exists())
        .expect("cat")
}

/// Start `argv` (argv[0] the program) with exactly `envp` as its
/// environment, through posix_spawn, stdin on /dev/null and stdout, stderr
/// captured in files of `dir`; in a process group of its own, under the
/// deadline. std's Command cannot make an environment entry without `=`.
fn spawn_with_envp(argv: &[&CStr], envp: &[&CStr], dir: &Path) -> Output {
    let out = File::create(dir.join("out")).unwrap();
    let err = File::create(dir.join("err")).unwrap();
    let argv: Vec<*mut libc::c_char> = argv
        .iter()
        .map(|a| a.as_ptr() as *mut _)
        .chain([std::ptr::null_mut()])
        .collect();
    let envp: Vec<*mut libc::c_char> = envp
        .iter()
        .map(|e| e.as_ptr() as *mut _)
        .chain([std::ptr::null_mut()])
        .collect();
    let mut pid = 0;
    // SAFETY: the attribute and action objects are initialised before use
    // and destroyed after; every pointer passed lives until posix_spawn
    // returns (it has exec'd or failed by then).
    let error = unsafe {
        let mut actions: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        assert_eq!(libc::posix_spawn_file_actions_init(&mut actions), 0);
        assert_eq!(libc::posix_spawnattr_init(&mut attr), 0);
        libc::posix_spawn_file_actions_addopen(
            &mut actions,
            0,
            c"/dev/null".as_ptr(),
            libc::O_RDONLY,
            0,
        );
        libc::posix_spawn_file_actions_adddup2(&mut actions, out.as_raw_fd(), 1);
        libc::posix_spawn_file_actions_adddup2(&mut actions, err.as_raw_fd(), 2);
        // A group of its own (for the deadline), and SIGPIPE back to the
        // default that Rust's runtime changed in this process.
        let mut defaults: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut defaults);
        libc::sigaddset(&mut defaults, libc::SIGPIPE);
        libc::posix_spawnattr_setsigdefault(&mut attr, &defaults);
        libc::posix_spawnattr_setpgroup(&mut attr, 0);
        let flags = libc::POSIX_SPAWN_SETPGROUP | libc::POSIX_SPAWN_SETSIGDEF;
        libc::posix_spawnattr_setflags(&mut attr, flags as libc::c_short);
        let error = libc::posix_spawn(
            &mut pid,
            argv[0],
            &actions,
            &attr,
            argv.as_ptr(),
            envp.as_ptr(),
        );
        libc::posix_spawn_file_actions_destroy(&mut actions);
        libc::posix_spawnattr_destroy(&mut attr);
        error
    };
    assert_eq!(
        error,
        0,
        "posix_spawn: {}",
        std::io::Error::from_raw_os_error(error)
    );
    let status = wait_pid_within(pid, &format!("{argv:?}"));
    Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: std::fs::read(dir.join("out")).unwrap(),
        stderr: std::fs::read(dir.join("err")).unwrap(),
    }
}

/// The environment reaches the command as the kernel gave it to nsclone,
/// byte for byte: entries without `=`, and empty ones, included (env(1)
/// and unshare(1) pass them on untouched).
#[test]
fn the_environment_passes_through_byte_for_byte() {
    if !privileged("the environment, byte for byte") {
        return;
    }
    let _host = Host::guard();
    let envp = [c"A=1", c"NOEQUALS", c"", c"B=2"];
    let nsclone = CString::new(NSCLONE).unwrap();
    for style in [None, Some(c"--vfork")] {
        let dir = tempdir();
        let mut argv: Vec<&CStr> = vec![&nsclone, c"-q"];
        argv.extend(style);
        argv.extend([cat(), c"/proc/self/environ"]);
        let out = spawn_with_envp(&argv, &envp, dir.path());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{style:?}: {}: {}",
            ending(&out),
            stderr(&out)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "A=1\0NOEQUALS\0\0B=2\0",
            "{style:?}: the command's environment"
        );
    }
}

/// A process that is killed when dropped.
struct Sleeper(std::process::Child);

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The child looked for /proc/PID/exe in its own /proc (a new PID
/// namespace's, where that pid does not exist): ENOENT, 127, as unshare(1)
/// says. A diagnosis made in the launcher's /proc (where the file exists)
/// would be about another file.
#[test]
fn a_missing_file_is_diagnosed_where_the_child_looked() {
    if !privileged("diagnosis in the child's /proc") {
        return;
    }
    let _host = Host::guard();
    let sleeper = Sleeper(Command::new("sleep").arg("30").spawn().unwrap());
    let exe = format!("/proc/{}/exe", sleeper.0.id());
    let out = run_within(nsclone().args(["-q", "--mount-proc", &exe]), &exe);
    drop(sleeper);
    let line = exec_failed(&out, 127, "ENOENT (No such file or directory)");
    assert!(!line.contains("interpreter"), "{line}");
}

/// Write `text` into `path` with `mode`.
fn file(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A directory everyone may enter, removed when dropped.
fn open_dir() -> tempfile::TempDir {
    let dir = tempdir();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Mode 0744, owned by root, run by uid 65534: only its owner may execute
/// it. The message says that, and says nothing of noexec (the mount is not).
#[test]
fn eacces_for_another_user_names_the_missing_permission_not_noexec() {
    let test = "EACCES";
    if !can_run(Who::Nobody, test) {
        return;
    }
    let _host = Host::guard();
    let dir = open_dir();
    let script = dir.path().join("only-root-may-run");
    file(&script, "#!/bin/sh\necho ran\n", 0o744);
    let (mut nobody, _copy) = nsclone_as_nobody();
    let out = run_within(nobody.args(["-U", "-q"]).arg(&script), test);
    let line = exec_failed(&out, 126, "EACCES");
    assert!(out.stdout.is_empty(), "it ran: {}", stdout(&out));
    assert!(line.contains("execute permission"), "{line}");
    assert!(!line.contains("noexec"), "{line}");
}

/// Mode 0644: nobody may execute it; the message says how to allow it.
#[test]
fn eacces_without_any_execute_bit_says_chmod() {
    if !privileged("EACCES, mode 0644") {
        return;
    }
    let _host = Host::guard();
    let dir = open_dir();
    let script = dir.path().join("not-executable");
    file(&script, "#!/bin/sh\necho ran\n", 0o644);
    let out = run_within(nsclone().arg("-q").arg(&script), "mode 0644");
    let line = exec_failed(&out, 126, "EACCES");
    assert!(line.contains("chmod +x"), "{line}");
    assert!(!line.contains("noexec"), "{line}");
}

/// A real noexec mount (a tmpfs in a private mount namespace, so the
/// host's mount table never sees it): there, and only there, the message
/// names noexec.
#[test]
fn eacces_on_a_noexec_mount_names_noexec() {
    if !privileged("EACCES on a noexec mount") {
        return;
    }
    let _host = Host::guard();
    let dir = open_dir();
    let script =
        r#"mount -t tmpfs -o noexec tmpfs "$1" && cp /bin/true "$1"/ && exec "$2" -q "$1"/true"#;
    let out = run_within(
        Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
            .arg(dir.path())
            .arg(NSCLONE),
        "noexec tmpfs",
    );
    let line = exec_failed(&out, 126, "EACCES");
    assert!(line.contains("noexec"), "{line}");
}

// ---------------------------------------------------------------------------
// The reference: glibc's execvp itself, on generated trees and PATHs.
// ---------------------------------------------------------------------------

/// The command every case looks for.
const PROGRAM: &CStr = c"prog";

/// What a directory holds under the command's name.
#[derive(Clone, Debug)]
enum Found {
    /// `#!/bin/sh` that prints the path it was started as ($0).
    Script(u32),
    /// The same without `#!`: execve says ENOEXEC, and execvp runs it with
    /// /bin/sh, which prints the path too.
    NoMagic(u32),
    /// A directory of that name: EACCES.
    Directory,
}

/// One PATH entry.
#[derive(Clone, Debug)]
enum Entry {
    /// An empty entry: the current directory.
    Empty,
    /// A directory that does not exist: ENOENT.
    Missing,
    /// A regular file used as a directory: ENOTDIR.
    FileAsDir,
    /// A directory, holding the command or not.
    Dir(Option<Found>),
    /// Longer than PATH_MAX: glibc passes over it.
    TooLong,
    /// A component longer than NAME_MAX: execve says ENAMETOOLONG, which
    /// ends the search.
    LongName,
    /// Shorter than PATH_MAX, but not with "/prog" added: ENAMETOOLONG.
    NearPathMax,
}

/// A generated case: PATH's entries, and what the current directory holds.
#[derive(Clone, Debug)]
struct Case {
    entries: Vec<Entry>,
    cwd: Option<Found>,
}

impl Case {
    /// The case as glibc defines its outcome:
    /// - a too-long entry last ends glibc's search with whatever errno an
    ///   earlier call left: never put one last;
    /// - glibc tries the current directory once more right after a
    ///   too-long entry (its loop does not step over the ':'). Whether
    ///   nsclone copies that quirk is not what this test is about: when a
    ///   too-long entry is present, the current directory holds nothing.
    fn normalized(mut self) -> Case {
        if matches!(self.entries.last(), Some(Entry::TooLong)) {
            self.entries.push(Entry::Missing);
        }
        if self.entries.iter().any(|e| matches!(e, Entry::TooLong)) {
            self.cwd = None;
        }
        self
    }
}

fn found() -> impl Strategy<Value = Found> {
    // Root may execute a file with any execute bit, and none without.
    let mode = proptest::sample::select(vec![
        0o755, 0o700, 0o500, 0o100, 0o010, 0o001, 0o644, 0o600, 0o000,
    ]);
    prop_oneof![
        3 => mode.clone().prop_map(Found::Script),
        2 => mode.prop_map(Found::NoMagic),
        1 => Just(Found::Directory),
    ]
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        2 => Just(Entry::Empty),
        3 => Just(Entry::Missing),
        2 => Just(Entry::FileAsDir),
        6 => proptest::option::of(found()).prop_map(Entry::Dir),
        1 => Just(Entry::TooLong),
        1 => prop_oneof![Just(Entry::LongName), Just(Entry::NearPathMax)],
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(entry(), 1..6),
        proptest::option::of(found()),
    )
        .prop_map(|(entries, cwd)| Case { entries, cwd }.normalized())
}

/// Put `found` at `path`.
fn place(path: &Path, found: &Found) {
    let print_0 = "printf %s \"$0\"\n";
    match *found {
        Found::Script(mode) => file(path, &format!("#!/bin/sh\n{print_0}"), mode),
        Found::NoMagic(mode) => file(path, print_0, mode),
        Found::Directory => std::fs::create_dir(path).unwrap(),
    }
}

/// Build `case` under `root`: the current directory `root/cwd`, and the
/// PATH, returned.
fn build(case: &Case, root: &Path) -> Vec<u8> {
    let program = OsStr::from_bytes(PROGRAM.to_bytes());
    std::fs::create_dir(root.join("cwd")).unwrap();
    if let Some(found) = &case.cwd {
        place(&root.join("cwd").join(program), found);
    }
    let entries: Vec<Vec<u8>> = case
        .entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let path = match entry {
                Entry::Empty => return Vec::new(),
                Entry::Missing => root.join(format!("missing{i}")),
                Entry::FileAsDir => {
                    let path = root.join(format!("file{i}"));
                    std::fs::write(&path, "a file, not a directory\n").unwrap();
                    path
                }
                Entry::Dir(found) => {
                    let dir = root.join(format!("dir{i}"));
                    std::fs::create_dir(&dir).unwrap();
                    if let Some(found) = found {
                        place(&dir.join(program), found);
                    }
                    dir
                }
                Entry::TooLong => return format!("/{}", "a".repeat(5000)).into_bytes(),
                Entry::LongName => root.join("n".repeat(300)),
                Entry::NearPathMax => {
                    // Short components, 4093 bytes in all: "/prog" makes
                    // it 4098, past PATH_MAX (4096 with the NUL).
                    let mut path = String::from("/nonexistent-nsclone-test");
                    while path.len() + 100 <= 4093 {
                        path.push('/');
                        path.push_str(&"c".repeat(99));
                    }
                    path.push('/');
                    path.push_str(&"c".repeat(4093 - path.len()));
                    return path.into_bytes();
                }
            };
            path.into_os_string().into_encoded_bytes()
        })
        .collect();
    entries.join(&b':')
}

/// How an exec ended: the command ran and printed this, or it failed with
/// this errno.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Ran(Vec<u8>),
    Failed(i32),
}

unsafe extern "C" {
    /// The process's environment, which execvp searches for PATH.
    static mut environ: *const *const libc::c_char;
}

/// glibc's execvp(PROGRAM) with `path` as PATH, in `cwd`, in a child
/// forked from this test; its stdout goes to `out`. The child reports a
/// failure's errno over a close-on-exec pipe: end-of-file means it exec'd.
fn glibc_execvp(path: &[u8], cwd: &Path, out: &Path) -> Outcome {
    // Everything the child needs is made before fork: it may not allocate
    // (the test harness has other threads).
    let path = CString::new([&b"PATH="[..], path].concat()).unwrap();
    let envp = [path.as_ptr(), null()];
    let argv = [PROGRAM.as_ptr(), null()];
    let cwd = CString::new(cwd.as_os_str().as_bytes()).unwrap();
    let output = File::create(out).unwrap();
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills both descriptors, which we then own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both are fresh descriptors nobody else owns.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: the child makes only async-signal-safe calls (execvp walks
    // PATH on its stack, with no allocation) and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // SAFETY: see above; every pointer was made before fork.
        unsafe {
            libc::setpgid(0, 0);
            libc::dup2(output.as_raw_fd(), 1);
            if libc::chdir(cwd.as_ptr()) == 0 {
                environ = envp.as_ptr();
                libc::execvp(PROGRAM.as_ptr(), argv.as_ptr());
            }
            let errno = *libc::__errno_location();
            libc::write(write.as_raw_fd(), (&raw const errno).cast(), 4);
            libc::_exit(127);
        }
    }
    drop(write);
    let mut report = Vec::new();
    std::io::Read::read_to_end(&mut File::from(read), &mut report).unwrap();
    let status = wait_pid_within(pid, "glibc's execvp");
    match report.as_slice() {
        [] => {
            assert_eq!(status, 0, "the command glibc ran failed: {status:#x}");
            Outcome::Ran(std::fs::read(out).unwrap())
        }
        bytes => Outcome::Failed(i32::from_ne_bytes(bytes.try_into().unwrap())),
    }
}

/// An errno's name, as nsclone's messages spell it.
fn errno_name(errno: i32) -> String {
    let names = [
        (libc::ENOENT, "ENOENT"),
        (libc::EACCES, "EACCES"),
        (libc::ENOTDIR, "ENOTDIR"),
        (libc::ENAMETOOLONG, "ENAMETOOLONG"),
        (libc::ENOEXEC, "ENOEXEC"),
        (libc::ELOOP, "ELOOP"),
        (libc::E2BIG, "E2BIG"),
    ];
    names
        .iter()
        .find(|(e, _)| *e == errno)
        .map_or_else(|| format!("errno {errno}"), |(_, name)| name.to_string())
}

/// nsclone finds and runs what glibc's execvp finds and runs (the same
/// file, started under the same name), or fails with the same errno, with
/// env(1)'s exit codes.
#[test]
fn the_path_search_is_glibc_execvp() {
    if !privileged("PATH search against glibc") {
        return;
    }
    let _host = Host::guard();
    let config = ProptestConfig {
        cases: soak(64, 1024) as u32,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let tally = std::cell::RefCell::new(std::collections::BTreeMap::new());
    proptest!(config, |(case in case())| {
        let root = tempdir();
        let path = build(&case, root.path());
        let cwd = root.path().join("cwd");
        let glibc = glibc_execvp(&path, &cwd, &root.path().join("glibc.out"));
        let out = run_within(
            nsclone()
                .arg("-q")
                .arg(OsStr::from_bytes(PROGRAM.to_bytes()))
                .env_clear()
                .env("PATH", OsStr::from_bytes(&path))
                .current_dir(&cwd),
            "nsclone -q prog",
        );
        let err = stderr(&out);
        let key = match &glibc {
            Outcome::Ran(_) => "ran".to_string(),
            Outcome::Failed(errno) => errno_name(*errno),
        };
        *tally.borrow_mut().entry(key).or_insert(0) += 1;
        match glibc {
            Outcome::Ran(printed) => {
                prop_assert_eq!(out.status.code(), Some(0), "glibc ran {:?}; nsclone: {}", String::from_utf8_lossy(&printed), err);
                prop_assert_eq!(
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&printed),
                    "the path it was started as"
                );
                prop_assert!(out.stderr.is_empty(), "{}", err);
            }
            Outcome::Failed(errno) => {
                let code = if errno == libc::ENOENT { 127 } else { 126 };
                let name = errno_name(errno);
                prop_assert_eq!(out.status.code(), Some(code), "glibc: {}; nsclone: {}", name, err);
                prop_assert!(out.stdout.is_empty(), "nsclone ran something: {}", stdout(&out));
                prop_assert_eq!(err.lines().count(), 1, "{}", err);
                prop_assert!(err.contains(&name), "glibc: {}; nsclone: {}", name, err);
            }
        }
    });
    eprintln!("glibc's outcomes: {:?}", tally.borrow());
}
