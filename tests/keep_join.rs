//! The life of a namespace beyond its command: `--keep DIR` keeps the new
//! namespaces with bind mounts, `--join DIR` and `--join PID` enter existing
//! ones with setns(2), `--unkeep DIR` releases them, and then nothing
//! refers to them any more.
//!
//! The witnesses are the kernel's own, read here independently of nsclone:
//! the device and inode of each namespace (stat(2) of `/proc/PID/ns/TYPE`
//! and of the kept files), `/proc/*/mountinfo`, `/proc/*/fd`, and what the
//! joined command prints about itself.
//!
//! `--keep` changes the host's mount table by design: the tests check that
//! exactly the kept files are mounted, and that the table is as before once
//! they are released. Since the tests of one file run in parallel and each
//! checks the host, the tests here take turns ([`one_at_a_time`]).
//!
//! Needs root; the rootless cases run as uid 65534 with `--user`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};

mod common;
use common::{
    Host, NOBODY, Who::Nobody, can_run, executable_by_nobody, nsclone, nsclone_as_nobody,
    privileged, run_within, stderr, stdout,
};

/// The tests take turns: one keeping namespaces changes the mount table
/// that another's host check reads.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A namespace's identity: device and inode (namespaces(7)).
type Id = (u64, u64);

fn id_of(path: &Path) -> Id {
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (meta.dev(), meta.ino())
}

/// A directory for kept namespace files, anyone may write into (the
/// rootless cases run as 65534), unmounted and removed when dropped, even
/// when a test fails half-way.
struct KeepDir {
    dir: tempfile::TempDir,
}

impl KeepDir {
    fn new() -> KeepDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = common::tempdir();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        KeepDir { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn str(&self) -> &str {
        self.path().to_str().unwrap()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }
}

impl Drop for KeepDir {
    fn drop(&mut self) {
        for name in ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"] {
            let path = std::ffi::CString::new(self.file(name).to_str().unwrap()).unwrap();
            // SAFETY: a path; errors (nothing mounted) are ignored.
            unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

/// Run nsclone with `args`, under the deadline.
fn ns(args: &[&str]) -> Output {
    let mut cmd = nsclone();
    cmd.args(args);
    run_within(&mut cmd, &format!("nsclone {args:?}"))
}

/// Run nsclone with `args` as uid 65534, under the deadline.
fn ns_nobody(args: &[&str]) -> Output {
    let (mut cmd, _copy) = nsclone_as_nobody();
    cmd.args(args);
    run_within(&mut cmd, &format!("nsclone {args:?} as 65534"))
}

/// nsclone as root or, with `nobody`, as uid 65534 (no `--user` added:
/// each test asks for the user namespace it wants), run from /. Keep the
/// second value alive while it runs (see `common::nsclone_as_nobody`).
fn as_root_or_nobody(nobody: bool) -> (Command, Option<tempfile::TempDir>) {
    match nobody {
        true => nsclone_as_nobody(),
        false => {
            let mut cmd = nsclone();
            cmd.current_dir("/");
            (cmd, None)
        }
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}:\n{}{}",
        common::ending(out),
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// A refusal: exit 125 and a single line naming the problem.
fn refused(out: &Output, needle: &str) {
    let said = stderr(out);
    assert_eq!(out.status.code(), Some(125), "{said}");
    assert_eq!(said.lines().count(), 1, "one line: {said}");
    assert!(said.starts_with("nsclone: "), "{said}");
    assert!(said.contains(needle), "{needle:?} not in {said}");
}

/// The mount points under `dir` in our mount table.
fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = format!("{}/", dir.display());
    let mut found: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| p.starts_with(&prefix))
        .map(String::from)
        .collect();
    found.sort();
    found
}

/// Every reference to the namespace `id` that a process can be seen to
/// hold: a process or thread in it (`/proc/*/task/*/ns/*`), an open
/// descriptor of it (`/proc/*/fd/*`), a bind mount of it in any mount
/// namespace that has a process (`/proc/*/mountinfo`: nsfs, `TYPE:[INODE]`).
fn references(id: Id, name: &str) -> Vec<String> {
    let link = format!("{name}:[{}]", id.1);
    let mut found = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return found;
    };
    for proc in procs.flatten() {
        let pid = proc.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let base = proc.path();
        for task in std::fs::read_dir(base.join("task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            for ns in std::fs::read_dir(task.path().join("ns"))
                .into_iter()
                .flatten()
                .flatten()
            {
                if std::fs::metadata(ns.path()).is_ok_and(|m| (m.dev(), m.ino()) == id) {
                    found.push(format!("{}", ns.path().display()));
                }
            }
        }
        for fd in std::fs::read_dir(base.join("fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if std::fs::read_link(fd.path()).is_ok_and(|t| t.to_string_lossy() == link) {
                found.push(format!("{}", fd.path().display()));
            }
        }
        let mountinfo = std::fs::read_to_string(base.join("mountinfo")).unwrap_or_default();
        for line in mountinfo.lines() {
            if line.split(' ').nth(3) == Some(link.as_str()) {
                let point = line.split(' ').nth(4).unwrap_or("?").to_owned();
                let mount = format!("mount {point}");
                if !found.contains(&mount) {
                    found.push(mount);
                }
            }
        }
    }
    found
}

/// The identities the command prints for itself: `TYPE DEV INODE` lines
/// (stat -L of `/proc/self/ns/TYPE`, through the command's own /proc).
const PRINT_IDS: &str = "for t in cgroup ipc mnt net pid uts user; do \
    stat -L -c \"$t %d %i\" /proc/self/ns/$t; done";

fn ids_printed(text: &str) -> Vec<(String, Id)> {
    text.lines()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            match words.as_slice() {
                [name, dev, ino] => {
                    Some((name.to_string(), (dev.parse().ok()?, ino.parse().ok()?)))
                }
                _ => None,
            }
        })
        .collect()
}

fn printed(text: &str, name: &str) -> Id {
    ids_printed(text)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .1
}

#[test]
fn a_kept_namespace_outlives_its_command_is_joined_and_dies_when_released() {
    let test = "a_kept_namespace_outlives_its_command_is_joined_and_dies_when_released";
    if !privileged(test) {
        return;
    }
    let _turn = one_at_a_time();
    let host = Host::guard();
    let dir = KeepDir::new();

    // The first command sets the hostname, brings lo up, and exits.
    let out = ns(&["-H", "kept", "-n", "-i", "--keep", dir.str(), "true"]);
    ok(&out);
    assert!(
        stderr(&out).contains("keeping the new namespaces in"),
        "{}",
        stderr(&out)
    );
    let kept = ["ipc", "net", "uts"].map(|n| dir.file(n));
    let expected: Vec<String> = kept.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(mounts_under(dir.path()), expected, "exactly the new ones");
    host.assert_unchanged_but_mounts(&kept.iter().map(PathBuf::as_path).collect::<Vec<_>>());

    // No process is in them: the bind mount is their only reference.
    let uts = id_of(&dir.file("uts"));
    let refs = references(uts, "uts");
    assert_eq!(
        refs,
        [format!("mount {}", dir.file("uts").display())],
        "the kept uts namespace is held by its mount alone"
    );

    // A second nsclone joins them, and sees what the first left.
    let script = format!("hostname; {PRINT_IDS}; ip -brief link");
    let out = ns(&["-q", "--join", dir.str(), "sh", "-c", &script]);
    let text = ok(&out);
    assert_eq!(text.lines().next(), Some("kept"), "{text}");
    for name in ["ipc", "net", "uts"] {
        assert_eq!(
            printed(&text, name),
            id_of(&dir.file(name)),
            "{name}: {text}"
        );
    }
    let lo = text.lines().find(|l| l.starts_with("lo ")).expect("lo");
    assert!(lo.contains("UP"), "lo stayed up: {text}");
    assert_eq!(
        text.lines().filter(|l| l.contains('<')).count(),
        1,
        "{text}"
    );
    // The host's own: untouched (the guard checks its hostname too).
    let mine = id_of(Path::new("/proc/self/ns/uts"));
    assert_ne!(printed(&text, "uts"), mine);

    // Released: no mount, no file, no reference anywhere.
    let out = ns(&["--unkeep", dir.str()]);
    ok(&out);
    assert!(
        stderr(&out).contains("released the namespaces kept in"),
        "{}",
        stderr(&out)
    );
    assert!(mounts_under(dir.path()).is_empty());
    for file in &kept {
        assert!(!file.exists(), "{} removed", file.display());
    }
    assert_eq!(
        references(uts, "uts"),
        Vec::<String>::new(),
        "nothing holds it"
    );
    host.assert_unchanged_but_mounts(&[]);
    refused(
        &ns(&["--join", dir.str(), "true"]),
        "no namespace file in it",
    );
}

/// A running `nsclone --pid --net --ipc --mount-proc sleep`, and the pid of
/// its command (PID 1 of the new PID namespace).
struct Target {
    launcher: Child,
    command: i32,
    _copy: Option<tempfile::TempDir>,
}

impl Target {
    fn start(nobody: bool, args: &[&str]) -> Target {
        let (mut cmd, copy) = as_root_or_nobody(nobody);
        let launcher = cmd
            .args(args)
            .args(["sleep", "60"])
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Its command: the launcher's (or setpriv's exec'd launcher's)
        // child, once it has become `sleep`.
        let children = format!("/proc/{0}/task/{0}/children", launcher.id());
        let start = std::time::Instant::now();
        let command = loop {
            let pid = std::fs::read_to_string(&children)
                .unwrap_or_default()
                .split_whitespace()
                .next()
                .and_then(|p| p.parse::<i32>().ok());
            let comm = pid.map(|p| std::fs::read_to_string(format!("/proc/{p}/comm")));
            if let (Some(pid), Some(Ok(comm))) = (pid, comm) {
                if comm.trim() == "sleep" {
                    break pid;
                }
            }
            assert!(
                start.elapsed() < common::DEADLINE,
                "the target never ran sleep"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        Target {
            launcher,
            command,
            _copy: copy,
        }
    }

    fn pid(&self) -> String {
        self.command.to_string()
    }

    fn id(&self, name: &str) -> Id {
        id_of(Path::new(&format!("/proc/{}/ns/{name}", self.command)))
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        // SAFETY: the process group this test started.
        unsafe { libc::kill(-(self.launcher.id() as i32), libc::SIGKILL) };
        let _ = self.launcher.wait();
    }
}

/// Run `nsclone --join PID` with a command that prints its pid, then waits
/// for a line on its standard input: while it waits, the test looks at it
/// from the target's side. Returns what it printed and the pids.
fn join_and_look(target: &Target, nobody: bool, extra: &[&str]) -> (String, i32) {
    let script = format!(
        "{PRINT_IDS}; hostname; echo self $$; cat /proc/1/comm; echo waiting; read line; echo done"
    );
    let (mut cmd, _copy) = as_root_or_nobody(nobody);
    let mut joined = cmd
        .args(["-q", "--join", &target.pid()])
        .args(extra)
        .args(["sh", "-c", &script])
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut text = String::new();
    let mut lines = BufReader::new(joined.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        text.push_str(&line);
        text.push('\n');
        if line == "waiting" {
            break;
        }
    }
    let inner: i32 = text
        .lines()
        .find_map(|l| l.strip_prefix("self "))
        .unwrap_or_else(|| panic!("no pid in {text:?}"))
        .parse()
        .unwrap();
    // The target's PID 1 sees it: in the target's own /proc (its root's).
    let seen = std::fs::read_to_string(format!("/proc/{}/root/proc/{inner}/comm", target.command));
    let mut stdin = joined.stdin.take().unwrap();
    writeln!(stdin).unwrap();
    drop(stdin);
    for line in lines {
        text.push_str(&line.unwrap());
        text.push('\n');
    }
    let out = common::finish_within(joined, "nsclone --join");
    assert!(
        out.status.success(),
        "{}: {}",
        common::ending(&out),
        stderr(&out)
    );
    assert!(text.ends_with("done\n"), "{text}");
    text.push_str(&format!(
        "seen by PID 1: {}\n",
        seen.unwrap_or_default().trim()
    ));
    (text, inner)
}

#[test]
fn join_pid_enters_a_running_commands_namespaces() {
    if !privileged("join_pid_enters_a_running_commands_namespaces") {
        return;
    }
    let _turn = one_at_a_time();
    let _host = Host::guard();
    let target = Target::start(
        false,
        &["-q", "-H", "target", "-p", "-n", "-i", "--mount-proc"],
    );
    let (text, inner) = join_and_look(&target, false, &[]);
    for name in ["uts", "ipc", "net", "mnt", "pid"] {
        assert_eq!(printed(&text, name), target.id(name), "{name}: {text}");
    }
    assert!(
        text.contains("\ntarget\n"),
        "its hostname, unchanged: {text}"
    );
    assert_ne!(inner, 1, "PID 1 is the target's command: {text}");
    assert!(text.contains("\nsleep\n"), "PID 1 inside is sleep: {text}");
    assert!(text.contains("seen by PID 1: sh"), "{text}");
}

#[test]
fn join_then_create_shares_some_and_makes_the_others() {
    if !privileged("join_then_create_shares_some_and_makes_the_others") {
        return;
    }
    let _turn = one_at_a_time();
    let _host = Host::guard();
    let target = Target::start(false, &["-q", "-H", "target", "-p", "-i", "--mount-proc"]);
    let (text, _) = join_and_look(&target, false, &["-n", "-H", "fresh"]);
    for name in ["ipc", "mnt", "pid"] {
        assert_eq!(
            printed(&text, name),
            target.id(name),
            "{name} joined: {text}"
        );
    }
    for name in ["net", "uts"] {
        assert_ne!(printed(&text, name), target.id(name), "{name} new: {text}");
        let host = id_of(Path::new(&format!("/proc/self/ns/{name}")));
        assert_ne!(printed(&text, name), host, "{name} new: {text}");
    }
    assert!(text.contains("\nfresh\n"), "{text}");
    // The target keeps its hostname: a hostname is set in a new one only.
    let out = ns(&["-q", "--join", &target.pid(), "hostname"]);
    assert_eq!(ok(&out), "target\n");
}

#[test]
fn rootless_join_pid_enters_its_user_namespace_first() {
    if !can_run(Nobody, "rootless_join_pid_enters_its_user_namespace_first") {
        return;
    }
    let _turn = one_at_a_time();
    let _host = Host::guard();
    let target = Target::start(
        true,
        &["-q", "-U", "-H", "rootless", "-p", "-n", "--mount-proc"],
    );
    let (text, inner) = join_and_look(&target, true, &[]);
    for name in ["user", "uts", "net", "mnt", "pid"] {
        assert_eq!(printed(&text, name), target.id(name), "{name}: {text}");
    }
    assert!(text.contains("\nrootless\n"), "{text}");
    assert_ne!(inner, 1);
    assert!(text.contains("seen by PID 1: sh"), "{text}");
    // Without the user namespace (asked anew), nothing else may be joined.
    refused(
        &ns_nobody(&["-q", "--join", &target.pid(), "-U", "true"]),
        "EPERM",
    );
    // Show both sides: the launcher came back to its own /proc (chroot).
    let out = ns_nobody(&["--show-ns", "--join", &target.pid(), "true"]);
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("  * pid "), "only pid differs: {said}");
    assert!(said.contains("shares the other 7"), "{said}");
    // Joined, not made: the summary says so.
    assert!(
        said.contains("the child is in the joined pid namespace"),
        "{said}"
    );
    assert!(!said.contains("has its own"), "{said}");
    // The tree's legend names the marked rows for what they are.
    let out = ns_nobody(&["--show-ns=tree", "--join", &target.pid(), "true"]);
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("* the child's new or joined namespaces"),
        "{said}"
    );
}

#[test]
fn rootless_keep_works_in_a_mount_namespace_of_ones_own() {
    let test = "rootless_keep_works_in_a_mount_namespace_of_ones_own";
    if !can_run(Nobody, test) {
        return;
    }
    let _turn = one_at_a_time();
    let _host = Host::guard();
    let dir = KeepDir::new();
    // On the host, 65534 may not mount: refused before anything is made.
    refused(
        &ns_nobody(&["-U", "--keep", dir.str(), "true"]),
        "--keep bind-mounts the namespaces in your mount namespace",
    );
    // In a user and mount namespace of its own (unshare -Urm), it may.
    let (nsclone, _copy) = executable_by_nobody(Path::new(env!("CARGO_BIN_EXE_nsclone")));
    let nsclone = nsclone.display();
    let script = format!(
        "set -e; {nsclone} -q -U -H rootless -n --keep {d} true; \
         ls {d}; {nsclone} -q --join {d} sh -c 'hostname; id -u; {PRINT_IDS}'; \
         stat -L -c 'kept %d %i' {d}/uts; {nsclone} --unkeep {d}; ls {d}; echo end",
        d = dir.str()
    );
    let mut cmd = Command::new("setpriv");
    cmd.args(NOBODY)
        .args([
            "unshare",
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            &script,
        ])
        .current_dir("/");
    let out = run_within(&mut cmd, "rootless keep");
    let text = ok(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("net"), "{text}");
    assert_eq!(lines.next(), Some("user"), "{text}");
    assert_eq!(lines.next(), Some("uts"), "{text}");
    assert_eq!(lines.next(), Some("rootless"), "{text}");
    assert_eq!(
        lines.next(),
        Some("0"),
        "root in the kept user namespace: {text}"
    );
    let kept = text.lines().find_map(|l| l.strip_prefix("kept ")).unwrap();
    assert_eq!(format!("uts {kept}"), {
        let (dev, ino) = printed(&text, "uts");
        format!("uts {dev} {ino}")
    });
    assert!(text.ends_with("end\n"), "released, nothing left: {text}");
    assert!(
        stderr(&out).contains("released the namespaces kept in"),
        "{}",
        stderr(&out)
    );
    // The host never saw any of it.
    assert!(mounts_under(dir.path()).is_empty());
}

#[test]
fn a_kept_pid_namespace_takes_no_process_once_its_init_is_gone() {
    if !privileged("a_kept_pid_namespace_takes_no_process_once_its_init_is_gone") {
        return;
    }
    let _turn = one_at_a_time();
    let _host = Host::guard();
    let dir = KeepDir::new();
    let out = ns(&["-p", "--keep", dir.str(), "true"]);
    ok(&out);
    assert!(
        stderr(&out).contains("takes no new process"),
        "{}",
        stderr(&out)
    );
    refused(
        &ns(&["-q", "--join", dir.str(), "true"]),
        "clone into the joined PID namespace: ENOMEM",
    );
    ok(&ns(&["-q", "--unkeep", dir.str()]));
    assert!(mounts_under(dir.path()).is_empty());
}

#[test]
fn a_kept_mount_namespace_keeps_what_its_command_mounted() {
    if !privileged("a_kept_mount_namespace_keeps_what_its_command_mounted") {
        return;
    }
    let _turn = one_at_a_time();
    let _host = Host::guard();
    // Shared propagation, as on systemd hosts (the test's own mount
    // namespace, made by unshare, so that the host is not touched): the
    // child's mounts are peers of ours until it makes them private, and
    // the kernel would refuse to bind its mount namespace file before.
    let dir = KeepDir::new();
    let marker = common::tempdir();
    let nsclone = env!("CARGO_BIN_EXE_nsclone");
    let script = format!(
        "set -e; mount --make-rshared /; \
         {nsclone} -q -m --keep {d} sh -c 'mount -t tmpfs marker {m} && touch {m}/made-inside'; \
         ls {m}; echo -; {nsclone} -q --join {d} sh -c 'pwd; ls {m}'; \
         {nsclone} -q --unkeep {d}; echo end",
        d = dir.str(),
        m = marker.path().display()
    );
    // On one CPU: Linux 6.18 gives mount namespaces ids from per-CPU
    // batches, and binds a mount namespace file only from a namespace with
    // a smaller id (src/namespace/keep.rs); cloned on the other CPU, the
    // child of this test's young namespace may get a smaller one.
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", "0", "unshare", "--mount", "--propagation", "private"])
        .args(["sh", "-c", &script]);
    let text = ok(&run_within(&mut cmd, "keep a mount namespace"));
    assert_eq!(
        text, "-\n/\nmade-inside\nend\n",
        "joined at its /, with its mount"
    );
    assert!(std::fs::read_dir(marker.path()).unwrap().next().is_none());
}

#[test]
fn bad_input_is_one_line_and_125_with_nothing_changed() {
    if !privileged("bad_input_is_one_line_and_125_with_nothing_changed") {
        return;
    }
    let _turn = one_at_a_time();
    let host = Host::guard();
    let dir = KeepDir::new();
    let file = dir.file("plain");
    std::fs::write(&file, "").unwrap();
    let file = file.to_str().unwrap();
    let missing = dir.file("missing");
    let missing = missing.to_str().unwrap();

    refused(
        &ns(&["--join", "2147483647", "true"]),
        "pidfd_open(2147483647): ESRCH",
    );
    let mut exited = Command::new("true").spawn().unwrap();
    let pid = exited.id().to_string();
    exited.wait().unwrap();
    let out = ns(&["--join", &pid, "true"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    refused(&ns(&["--join", file, "true"]), "ENOTDIR");
    refused(&ns(&["--join", missing, "true"]), "ENOENT");
    refused(
        &ns(&["--join", dir.str(), "true"]),
        "no namespace file in it",
    );
    std::fs::write(dir.file("uts"), "").unwrap();
    refused(
        &ns(&["--join", dir.str(), "true"]),
        "is not a namespace file (ioctl NS_GET_NSTYPE: ENOTTY",
    );
    std::fs::remove_file(dir.file("uts")).unwrap();
    refused(&ns(&["--join", "0", "true"]), "neither a pid");
    refused(&ns(&["--keep", file, "true"]), "ENOTDIR");
    refused(
        &ns(&["--keep", dir.str(), "--vfork", "true"]),
        "vfork style cannot serve keeping",
    );
    refused(&ns(&["--unkeep", dir.str()]), "no namespace is kept there");
    refused(
        &ns(&["--unkeep", dir.str(), "true"]),
        "--unkeep runs no command",
    );

    // Kept twice in one place: refused before a second mount stacks.
    ok(&ns(&["-q", "--keep", dir.str(), "true"]));
    refused(
        &ns(&["--keep", dir.str(), "true"]),
        "keeps a namespace already",
    );
    let uts = dir.file("uts");
    host.assert_unchanged_but_mounts(&[uts.as_path()]);
    ok(&ns(&["-q", "--unkeep", dir.str()]));
    // The plain file is not nsclone's: left alone.
    assert!(Path::new(file).exists());
}
