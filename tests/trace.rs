//! `--trace` tells the truth: run nsclone under `strace -ff` and check, for
//! the launcher and for the child, that the calls nsclone traced are the
//! calls strace saw, in the same order, with the same arguments and the same
//! results (pids, addresses, errnos).
//!
//! What is compared, per process:
//! - the launcher: line for line, from its first call after the execve that
//!   started it to its exit_group (or the fatal kill of itself), strace's
//!   calls must be exactly the traced ones: nsclone has no C runtime, so
//!   nothing runs that it does not narrate;
//! - the child: from its first call after clone to its exec (or its exit),
//!   every call must be traced.
//!
//! One call is left out of strace's side, because it is the trace itself:
//! the write(2) of each trace line on standard error (nsclone's own
//! messages, written there too, are traced and compared).
//! A call's arguments are compared as printed, except where strace shows a
//! structure nsclone shows only in part (`newfstatat`, `fstat`,
//! `rt_sigtimedwait`, `rt_sigaction`): there up to the structure.
//!
//! Needs root (a new UTS namespace) and strace; `.ci/run` installs strace.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;
use common::{Host, can_strace, only_standard_descriptors};

const NSCLONE: &str = env!("CARGO_BIN_EXE_nsclone");

/// A fixed PATH, so that the search the child traces is the same everywhere.
const PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// A fresh directory for one test's strace files.
fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "trace-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The strace command line: one file per process (`DIR/t.PID`), so no call
/// is split in two; no signal lines; long strings in full.
fn strace(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("strace");
    cmd.args(["-ff", "-qq", "-e", "signal=none", "-s", "4096", "-o"])
        .arg(dir.join("t"))
        .arg(NSCLONE)
        .args(args)
        .env("PATH", PATH)
        .current_dir(dir)
        .stdin(Stdio::null());
    only_standard_descriptors(&mut cmd);
    cmd
}

/// One system call: its name, its arguments as compared, its result
/// (`0`, `4712`, `0x7f...`, `-1 ENOENT`, or `?` when it did not return).
#[derive(Clone, Debug, Eq)]
struct Call {
    name: String,
    args: String,
    result: String,
}

/// Two calls are the same call when names, results and arguments agree;
/// where one side cut a long string (`"abc"...`, as nsclone does after 96
/// bytes and strace after its `-s`), up to the cut.
impl PartialEq for Call {
    fn eq(&self, other: &Call) -> bool {
        let same_args = || {
            for (short, long) in [(&self.args, &other.args), (&other.args, &self.args)] {
                if let Some((head, tail)) = short.split_once("\"...") {
                    if long.starts_with(head) && long.ends_with(tail) {
                        return true;
                    }
                }
            }
            self.args == other.args
        };
        self.name == other.name && self.result == other.result && same_args()
    }
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({}) = {}", self.name, self.args, self.result)
    }
}

/// The result as compared: the value, or `-1 ENAME`, without the comment
/// that strace and nsclone add in parentheses.
fn result_key(result: &str) -> String {
    let words: Vec<&str> = result.split_whitespace().collect();
    match words.as_slice() {
        ["-1", errno, ..] => format!("-1 {errno}"),
        [value, ..] => value.to_string(),
        [] => String::new(),
    }
}

/// Arguments as compared: in full, except for structures shown in part.
fn args_key(name: &str, args: &str) -> String {
    match name {
        "newfstatat" | "fstat" | "rt_sigtimedwait" | "rt_sigaction" => {
            args.split('{').next().unwrap().to_string()
        }
        _ => args.to_string(),
    }
}

fn call(name: &str, args: &str, result: &str) -> Call {
    Call {
        name: name.to_string(),
        args: args_key(name, args),
        result: result_key(result),
    }
}

/// Split `name(args) = result` (with strace's padding before `=`).
fn split_call(text: &str) -> Option<(&str, &str, &str)> {
    let (call, result) = text.rsplit_once(" = ")?;
    let call = call.trim_end();
    let open = call.find('(')?;
    let args = call.get(open + 1..call.len() - 1)?;
    call.ends_with(')')
        .then_some((&call[..open], args, result.trim()))
}

/// The trace lines of one process, in order.
#[derive(Debug, Default)]
struct Traced {
    role: String,
    calls: Vec<Call>,
}

/// Parse nsclone's standard error: trace lines by process (keyed by the pid
/// each process reports), other lines ignored.
fn parse_trace(stderr: &str) -> BTreeMap<i32, Traced> {
    let mut procs: BTreeMap<i32, Traced> = BTreeMap::new();
    for line in stderr.lines() {
        let Some((who, rest)) = line.split_once("] ") else {
            continue;
        };
        let Some((role, pid)) = who.split_once('[') else {
            continue;
        };
        if role != "launcher" && role != "child" {
            continue;
        }
        let pid: i32 = pid.parse().expect("a pid");
        let proc = procs.entry(pid).or_default();
        proc.role = role.to_string();
        let text = rest.split("  # ").next().unwrap();
        if let Some(resumed) = text.strip_prefix("<... ") {
            let (name, result) = resumed.split_once(" resumed> = ").expect(line);
            let last = proc.calls.last_mut().expect("a resumed call was started");
            assert_eq!(last.name, name, "{line}");
            last.result = result_key(result);
        } else if let Some(call_text) = text.strip_suffix(" <unfinished ...>") {
            let open = call_text.find('(').expect(line);
            let (name, args) = (
                &call_text[..open],
                &call_text[open + 1..call_text.len() - 1],
            );
            // Unfinished and never resumed: a call that worked and did not
            // return, because it replaced the program (execve) or killed the
            // process (kill of oneself). strace shows 0 for both.
            proc.calls.push(call(name, args, "0"));
        } else {
            let (name, args, result) = split_call(text).expect(line);
            proc.calls.push(call(name, args, result));
        }
    }
    procs
}

/// Parse one strace file, leaving out the writes of trace lines.
fn parse_strace(path: &Path) -> Vec<Call> {
    let text = std::fs::read_to_string(path).unwrap();
    let trace_line = |c: &Call| {
        c.name == "write"
            && (c.args.starts_with("2, \"launcher[") || c.args.starts_with("2, \"child["))
    };
    text.lines()
        .filter(|l| !l.starts_with("+++") && !l.starts_with("---"))
        .map(|l| {
            let (name, args, result) = split_call(l).unwrap_or_else(|| panic!("strace: {l}"));
            call(name, args, result)
        })
        .filter(|c| !trace_line(c))
        .collect()
}

/// Show two call lists side by side, for a failure message.
fn side_by_side(traced: &[Call], made: &[Call]) -> String {
    let mut out = String::from("traced by nsclone | made, as strace saw them\n");
    for i in 0..traced.len().max(made.len()) {
        let t = traced.get(i).map_or(String::from("-"), Call::to_string);
        let m = made.get(i).map_or(String::from("-"), Call::to_string);
        let mark = if t == m { "  " } else { "!!" };
        out.push_str(&format!("{mark} {t}\n   {m}\n"));
    }
    out
}

/// Run nsclone under strace, then compare its trace with strace's record,
/// process by process. Returns nsclone's output.
fn check(name: &str, args: &[&str]) -> Output {
    check_in(&scratch(name), args)
}

/// [`check`], in the scratch directory `dir`.
fn check_in(dir: &Path, args: &[&str]) -> Output {
    let out = strace(dir, args).output().unwrap();
    compare(dir, &String::from_utf8_lossy(&out.stderr));
    out
}

/// Compare nsclone's trace, `stderr`, with strace's record in `dir`: the
/// launcher's calls and the child's.
fn compare(dir: &Path, stderr: &str) {
    let traced = parse_trace(stderr);
    let first = launcher_is_as_strace_saw_it(dir, &traced, stderr);
    let clone = first
        .calls
        .iter()
        .find(|c| c.name == "clone")
        .expect("the launcher traced clone");
    let child: i32 = clone.result.parse().expect("clone returned a pid");

    // The child: every call from clone to exec. It calls itself by the pid
    // that clone returned, or 1 in a new PID namespace.
    let child_traced = traced
        .iter()
        .find(|(_, p)| p.role == "child")
        .map(|(pid, p)| (*pid, p))
        .unwrap_or_else(|| panic!("no child lines in:\n{stderr}"));
    let own_pid_ns = clone.args.contains("CLONE_NEWPID");
    // Born in a joined PID namespace (`--join`), it has a pid of that
    // namespace, which only it knows.
    let joined_pid_ns = first
        .calls
        .iter()
        .any(|c| c.name == "setns" && c.args.contains("CLONE_NEWPID"));
    let expected = if own_pid_ns { 1 } else { child };
    if !joined_pid_ns {
        assert_eq!(child_traced.0, expected, "the child's pid as it sees it");
    }
    let calls = &child_traced.1.calls;
    let made = parse_strace(&dir.join(format!("t.{child}")));
    let window = &made[..calls.len().min(made.len())];
    assert!(calls == window, "child:\n{}", side_by_side(calls, window));
}

/// The launcher: every call it made after the execve that started it,
/// traced, in order, from the first to the last. Returns its trace.
fn launcher_is_as_strace_saw_it<'a>(
    dir: &Path,
    traced: &'a BTreeMap<i32, Traced>,
    stderr: &str,
) -> &'a Traced {
    let (&launcher, first) = traced
        .iter()
        .find(|(_, p)| p.role == "launcher")
        .unwrap_or_else(|| panic!("no launcher lines in:\n{stderr}"));
    let made = parse_strace(&dir.join(format!("t.{launcher}")));
    assert_eq!(
        made[0].name, "execve",
        "strace's first line is nsclone's exec"
    );
    assert!(
        first.calls == made[1..],
        "launcher:\n{}",
        side_by_side(&first.calls, &made[1..])
    );
    first
}

fn names(stderr: &[u8], role: &str) -> Vec<String> {
    let procs = parse_trace(&String::from_utf8_lossy(stderr));
    let proc = procs.values().find(|p| p.role == role).unwrap();
    proc.calls.iter().map(|c| c.name.clone()).collect()
}

/// Panic unless the calls `traced` (as [`names`] lists them) include every
/// one of `expected`.
fn assert_traced(traced: &[String], expected: &[&str]) {
    for name in expected {
        assert!(traced.iter().any(|n| n == name), "no {name} in {traced:?}");
    }
}

/// Panic unless `text` contains every one of `parts`.
fn assert_contains_all(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "no {part:?} in:\n{text}");
    }
}

#[test]
fn the_trace_of_true_is_what_strace_sees() {
    if !can_strace("the_trace_of_true_is_what_strace_sees") {
        return;
    }
    let _host = Host::guard();
    let out = check("true", &["--trace", "true"]);
    assert!(out.status.success(), "{out:?}");
    let launcher = names(&out.stderr, "launcher");
    assert_traced(
        &launcher,
        &["mmap", "mprotect", "clone", "munmap", "wait4", "exit_group"],
    );
    let child = names(&out.stderr, "child");
    assert_eq!(child.last().unwrap(), "execve");
    assert_traced(&child, &["newfstatat", "sethostname", "rt_sigprocmask"]);
}

#[test]
fn the_quiet_trace_and_an_exit_code() {
    if !can_strace("the_quiet_trace_and_an_exit_code") {
        return;
    }
    let _host = Host::guard();
    let out = check("exit42", &["--trace", "-q", "sh", "-c", "exit 42"]);
    assert_eq!(out.status.code(), Some(42));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("WEXITSTATUS(s) == 42"), "{stderr}");
}

#[test]
fn every_execve_of_the_path_search_is_traced_with_its_errno() {
    if !can_strace("every_execve_of_the_path_search_is_traced_with_its_errno") {
        return;
    }
    let _host = Host::guard();
    let out = check("notfound", &["--trace", "-q", "no-such-command-nsclone"]);
    assert_eq!(out.status.code(), Some(127));
    let child = names(&out.stderr, "child");
    let execs = child.iter().filter(|n| *n == "execve").count();
    assert_eq!(execs, PATH.split(':').count(), "{child:?}");
    assert_eq!(child.last().unwrap(), "exit_group");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("<... execve resumed> = -1 ENOENT"),
        "{stderr}"
    );
}

#[test]
fn a_script_without_shebang_is_traced_through_bin_sh() {
    if !can_strace("a_script_without_shebang_is_traced_through_bin_sh") {
        return;
    }
    let _host = Host::guard();
    let dir = scratch("noshebang-script");
    common::executable(&dir, "noshebang", "exit 3\n");
    // strace runs in the scratch directory: a relative path keeps the
    // command line the same wherever the checkout lies (the trace cuts a
    // string after 96 bytes, strace shows a path in full).
    let out = check_in(&dir, &["--trace", "-q", "./noshebang"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ENOEXEC"), "{stderr}");
    assert!(stderr.contains("execve(\"/bin/sh\""), "{stderr}");
}

#[test]
fn show_ns_reads_are_traced_too() {
    if !can_strace("show_ns_reads_are_traced_too") {
        return;
    }
    let _host = Host::guard();
    let out = check("showns", &["--trace", "--show-ns", "true"]);
    assert!(out.status.success(), "{out:?}");
    let launcher = names(&out.stderr, "launcher");
    // Both processes' ten links, each opened for the ioctls.
    assert!(launcher.iter().filter(|n| *n == "openat").count() >= 20);
}

#[test]
fn show_ns_asks_each_namespace_its_owner_and_parent() {
    // Every question of ioctl_ns(2) that --show-ns asks, with the answers
    // strace decodes (a type as its CLONE_NEW* flag, an owner uid, EPERM
    // for what is above the launcher's view), and the reads of NSpid.
    if !can_strace("show_ns_asks_each_namespace_its_owner_and_parent") {
        return;
    }
    let _host = Host::guard();
    let out = check(
        "showns-owners",
        &["--trace", "-q", "--show-ns=tree", "-U", "-p", "true"],
    );
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let launcher: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("launcher["))
        .collect();
    assert_contains_all(
        &launcher.join("\n"),
        &[
            "NS_GET_NSTYPE) = 268435456 (CLONE_NEWUSER)",
            "NS_GET_NSTYPE) = 536870912 (CLONE_NEWPID)",
            "NS_GET_USERNS) = ",
            "NS_GET_USERNS) = -1 EPERM",
            "NS_GET_PARENT) = ",
            "NS_GET_OWNER_UID, [",
            "fstat(",
            "/ns/uts\", O_RDONLY|O_CLOEXEC) = ",
            "/status\", O_RDONLY|O_CLOEXEC) = ",
            "read(",
        ],
    );
}

#[test]
fn a_child_killed_by_a_signal_is_traced_to_the_launchers_end() {
    if !can_strace("a_child_killed_by_a_signal_is_traced_to_the_launchers_end") {
        return;
    }
    let _host = Host::guard();
    let out = check("selfkill", &["--trace", "-q", "sh", "-c", "kill -TERM $$"]);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGTERM),
        "strace dies like its tracee"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("WTERMSIG(s) == SIGTERM"), "{stderr}");
    assert!(stderr.contains("rt_sigaction(SIGTERM"), "{stderr}");
    let launcher = names(&out.stderr, "launcher");
    assert_eq!(launcher.last().unwrap(), "kill");
}

#[test]
fn a_forwarded_signal_is_traced() {
    if !can_strace("a_forwarded_signal_is_traced") {
        return;
    }
    let _host = Host::guard();
    let dir = scratch("forward");
    let mut strace = strace(&dir, &["--trace", "-q", "sleep", "30"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the command runs (the launcher read end-of-file on the
    // report pipe), then send SIGTERM to the launcher: it forwards it.
    let mut stderr = String::new();
    let mut lines = BufReader::new(strace.stderr.take().unwrap()).lines();
    let mut launcher = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        stderr.push_str(&line);
        stderr.push('\n');
        if let Some(rest) = line.strip_prefix("launcher[") {
            launcher = rest.split(']').next().map(|p| p.parse::<i32>().unwrap());
            if rest.contains("read(") && rest.contains(" = 0") {
                break;
            }
        }
    }
    let launcher = launcher.expect("the launcher traced its calls");
    // SAFETY: kill has no memory preconditions; the launcher is our
    // grandchild and still running (it waits for `sleep`).
    assert_eq!(unsafe { libc::kill(launcher, libc::SIGTERM) }, 0);
    for line in lines {
        stderr.push_str(&line.unwrap());
        stderr.push('\n');
    }
    strace.wait().unwrap();
    compare(&dir, &stderr);
    assert!(
        stderr.contains("si_signo=SIGTERM, si_code=SI_USER"),
        "{stderr}"
    );
    assert!(
        stderr.contains("kill(") && stderr.contains("SIGTERM) = 0"),
        "{stderr}"
    );
}

#[test]
fn every_namespace_step_is_traced() {
    if !can_strace("every_namespace_step_is_traced") {
        return;
    }
    let _host = Host::guard();
    let out = check(
        "namespaces",
        &[
            "--trace",
            "-q",
            "--user",
            "--net",
            "--ipc",
            "--cgroup",
            "--mount-proc",
            "--kill-child",
            "true",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let child = names(&out.stderr, "child");
    assert_traced(
        &child,
        &["prctl", "getppid", "ppoll", "mount", "socket", "ioctl"],
    );
    assert_traced(&names(&out.stderr, "launcher"), &["openat"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("child[1] "),
        "PID 1 in its namespace:\n{stderr}"
    );
}

#[test]
fn time_namespace_steps_are_traced() {
    if !can_strace("time_namespace_steps_are_traced") {
        return;
    }
    let _host = Host::guard();
    let out = check("time", &["--trace", "-q", "--monotonic", "5", "true"]);
    assert!(out.status.success(), "{out:?}");
    let launcher = names(&out.stderr, "launcher");
    assert_traced(&launcher, &["unshare", "setns", "openat", "write"]);
}

#[test]
fn the_vfork_style_is_traced_too() {
    if !can_strace("the_vfork_style_is_traced_too") {
        return;
    }
    let _host = Host::guard();
    let out = check("vfork", &["--trace", "-q", "--vfork", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CLONE_VM|CLONE_VFORK"), "{stderr}");
    // The nsclone binary has no signal handler (it installs none, and exec
    // reset its caller's), so its vfork-style child need not look for any:
    // no rt_sigaction at all between clone and exec. (A library caller's
    // child does look, and resets them: tests/vfork.rs.)
    let child = names(&out.stderr, "child");
    assert!(!child.iter().any(|n| n == "rt_sigaction"), "{child:?}");
    assert_eq!(
        child.last().map(String::as_str),
        Some("execve"),
        "{child:?}"
    );
}

#[test]
fn a_new_root_is_traced_bind_pivot_root_and_detach() {
    let test = "a_new_root_is_traced_bind_pivot_root_and_detach";
    if !can_strace(test) {
        return;
    }
    if !Path::new("/bin/busybox").exists() {
        common::skip(test, "no static busybox (apt-get install busybox-static)");
        return;
    }
    let _host = Host::guard();
    // A tree with busybox's `true` and a /proc to mount on, given by a
    // relative path: strace runs in the scratch directory.
    let dir = scratch("root");
    std::fs::create_dir_all(dir.join("root/bin")).unwrap();
    std::fs::create_dir_all(dir.join("root/proc")).unwrap();
    std::fs::copy("/bin/busybox", dir.join("root/bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", dir.join("root/bin/true")).unwrap();
    let out = check_in(&dir, &["--trace", "-q", "--root", "root", "--pid", "true"]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_contains_all(
        &stderr,
        &[
            "launcher[",
            "newfstatat(AT_FDCWD, \"root\", {st_mode=S_IFDIR|",
            "newfstatat(AT_FDCWD, \"root/proc\", {st_mode=S_IFDIR|",
            "mount(\"root\", \"root\", NULL, MS_BIND|MS_REC, NULL) = 0",
            "mount(\"proc\", \"root/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) = 0",
            "chdir(\"root\") = 0",
            "pivot_root(\".\", \".\") = 0",
            "umount2(\".\", MNT_DETACH) = 0",
            "chdir(\"/\") = 0",
        ],
    );
    // In this order, before the exec, which finds `true` in the new root.
    let child = names(&out.stderr, "child");
    let at = |name: &str| child.iter().position(|n| n == name).unwrap();
    assert!(at("pivot_root") < at("umount2") && at("umount2") < at("execve"));
    assert!(
        stderr.contains("execve(\"/bin/true\""),
        "found in the new root:\n{stderr}"
    );
}

/// The launcher alone, for a run that clones no child (`--unkeep`).
fn compare_launcher(dir: &Path, stderr: &str) {
    launcher_is_as_strace_saw_it(dir, &parse_trace(stderr), stderr);
}

#[test]
fn keeping_joining_and_releasing_are_traced() {
    if !can_strace("keeping_joining_and_releasing_are_traced") {
        return;
    }
    let _host = Host::guard();
    // In a mount namespace of its own, so that the kept files' mounts do
    // not show in the host's table while other tests check it: three runs
    // of nsclone under strace, each with its own files.
    let dirs = ["keep", "join", "unkeep"].map(scratch);
    let kept = scratch("kept");
    let run = |dir: &Path, args: &str| {
        format!(
            "strace -ff -qq -e signal=none -s 4096 -o {d}/t {NSCLONE} --trace -q {args} 2>{d}/err",
            d = dir.display()
        )
    };
    let script = [
        run(
            &dirs[0],
            &format!("-H kept -n -i --keep {} true", kept.display()),
        ),
        run(&dirs[1], &format!("--join {} hostname", kept.display())),
        run(&dirs[2], &format!("--unkeep {}", kept.display())),
    ]
    .join(" && ");
    let status = only_standard_descriptors(&mut Command::new("unshare"))
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .env("PATH", PATH)
        .current_dir(&kept)
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{status:?}");
    let err = |dir: &Path| std::fs::read_to_string(dir.join("err")).unwrap();
    compare(&dirs[0], &err(&dirs[0]));
    compare(&dirs[1], &err(&dirs[1]));
    compare_launcher(&dirs[2], &err(&dirs[2]));
    assert_contains_all(
        &err(&dirs[0]),
        &[
            "] openat(AT_FDCWD, \"/proc/",
            "O_RDONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0444) = ",
            "\", NULL, MS_BIND, NULL) = 0  # the bind mount is a reference",
        ],
    );
    assert_contains_all(
        &err(&dirs[1]),
        &[
            "ioctl(3, NS_GET_NSTYPE) = ",
            "setns(3, CLONE_NEWIPC) = 0",
            "setns(5, CLONE_NEWUTS) = 0",
            "# back to our own, now that the child is born",
        ],
    );
    assert_contains_all(
        &err(&dirs[2]),
        &["umount2(", ", MNT_DETACH) = 0", "unlinkat(AT_FDCWD, "],
    );
}

#[test]
fn joining_a_running_process_is_traced() {
    if !can_strace("joining_a_running_process_is_traced") {
        return;
    }
    let _host = Host::guard();
    // A target with its own PID, mount and UTS namespaces.
    let mut target = Command::new(NSCLONE)
        .args(["-q", "-H", "target", "--pid", "--mount-proc", "sleep", "60"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let children = format!("/proc/{0}/task/{0}/children", target.id());
    let start = std::time::Instant::now();
    let pid = loop {
        let pid = std::fs::read_to_string(&children).unwrap_or_default();
        let pid = pid.split_whitespace().next().map(str::to_owned);
        if let Some(pid) = pid {
            if std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n") {
                break pid;
            }
        }
        assert!(start.elapsed() < common::DEADLINE, "the target never ran");
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let out = check("joinpid", &["--trace", "-q", "--join", &pid, "hostname"]);
    let _ = target.kill();
    let _ = target.wait();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "target\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_contains_all(
        &stderr,
        &[
            &format!("pidfd_open({pid}, 0) = 3"),
            "setns(3, CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWPID) = 0",
            "O_RDONLY|O_CLOEXEC|O_PATH|O_DIRECTORY) = ",
            "fchdir(",
        ],
    );
}
