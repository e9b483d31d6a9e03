//! `--vfork` and `Command::vfork`: the same launch with the child borrowing
//! the launcher's memory until it execs (`CLONE_VM|CLONE_VFORK`). It must
//! behave exactly like the default fork style, refuse what it cannot serve,
//! and keep the parent's signal handlers out of the child.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use nsclone::child;
use nsclone::clone::clone;
use nsclone::command::VFORK_FLAGS;
use nsclone::stack::Stack;
use nsclone::wait::WaitStatus;
use nsclone::{Error, sys};

use common::{
    Host, can_strace, executable, kernel_at_least, nsclone, privileged, run, stderr, stdout,
    strace_launch, tempdir,
};

#[test]
fn the_child_has_its_own_hostname_and_the_host_keeps_its_own() {
    if !privileged("--vfork hostname") {
        return;
    }
    let host = Host::snapshot();
    let out = run(&["--vfork", "-q", "-H", "borrowed", "hostname"]);
    assert_eq!(stdout(&out), "borrowed\n", "{}", stderr(&out));
    let inside = stdout(&run(&["--vfork", "-q", "readlink", "/proc/self/ns/uts"]));
    let outside = std::fs::read_link("/proc/self/ns/uts").unwrap();
    assert!(inside.starts_with("uts:["), "{inside}");
    assert_ne!(
        inside.trim(),
        outside.to_str().unwrap(),
        "a new UTS namespace"
    );
    host.assert_unchanged();
}

#[test]
fn exit_codes_pass_through() {
    if !privileged("--vfork exit codes") {
        return;
    }
    let _host = Host::guard();
    for code in [0, 1, 42, 255] {
        let out = run(&["--vfork", "-q", "sh", "-c", &format!("exit {code}")]);
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    }
}

#[test]
fn exec_errors_exit_127_and_126_with_the_same_messages() {
    if !privileged("--vfork exec errors") {
        return;
    }
    let _host = Host::guard();
    let out = run(&["--vfork", "-q", "no-such-command-nsclone"]);
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        stderr(&out),
        "nsclone: execvp(\"no-such-command-nsclone\"): ENOENT (No such file or directory): \
         command not found\n"
    );

    let dir = tempdir();
    let data = dir.path().join("data");
    std::fs::write(&data, "not a program").unwrap();
    let script = executable(dir.path(), "bad", "#!/no/such/interpreter\n");
    for path in [data.as_path(), dir.path(), script.as_path()] {
        let path = path.to_str().unwrap();
        let out = run(&["--vfork", "-q", path]);
        assert_eq!(out.status.code(), Some(126), "{path}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        let fork_style = run(&["-q", path]);
        assert_eq!(stderr(&out), stderr(&fork_style), "the same message");
    }
}

/// The one write the child makes into the parent's memory: the script's
/// path into the plan's shell argv, when the kernel answers ENOEXEC.
#[test]
fn a_script_without_a_shebang_runs_through_bin_sh() {
    if !privileged("--vfork ENOEXEC") {
        return;
    }
    let _host = Host::guard();
    let dir = tempdir();
    executable(dir.path(), "plain", "echo plain: \"$@\" $(hostname)\n");
    let path = format!("/no/such/dir:{}:/usr/bin:/bin", dir.path().display());
    let out = nsclone()
        .args(["--vfork", "-q", "plain", "a b"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "plain: a b newhostname\n", "{}", stderr(&out));
}

#[test]
fn the_launcher_dies_of_the_commands_signal() {
    if !privileged("--vfork signals") {
        return;
    }
    let _host = Host::guard();
    for (name, sig) in [
        ("TERM", libc::SIGTERM),
        ("INT", libc::SIGINT),
        ("KILL", libc::SIGKILL),
        ("PIPE", libc::SIGPIPE),
    ] {
        let out = run(&["--vfork", "-q", "sh", "-c", &format!("kill -{name} $$")]);
        assert_eq!(
            out.status.signal(),
            Some(sig),
            "SIG{name}: {:?}",
            out.status
        );
    }
}

#[test]
fn sigterm_to_the_launcher_reaches_the_child() {
    if !privileged("--vfork forwarding") {
        return;
    }
    let _host = Host::guard();
    let script = "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done";
    let mut child = nsclone()
        .args(["--vfork", "-q", "sh", "-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = [0u8; 6];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut ready).unwrap();
    assert_eq!(&ready, b"ready\n");
    let pid = child.id() as i32;
    sys::kill(pid, libc::SIGTERM, "the test").unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(7));
}

/// Ignored signals stay ignored through exec, in both styles; nsclone
/// itself ignores nothing (it has no std runtime start-up), so what the
/// caller ignored, SIGPIPE included, is what the command ignores.
#[test]
fn the_callers_ignored_signals_are_inherited_and_nothing_else() {
    if !privileged("ignored signals") {
        return;
    }
    let _host = Host::guard();
    let launcher = env!("CARGO_BIN_EXE_nsclone");
    let show = "grep SigIgn /proc/self/status";
    // What a shell started from here ignores (std resets SIGPIPE for it).
    let plain = sig_ign(&stdout(
        &Command::new("sh").args(["-c", show]).output().unwrap(),
    ));
    let trapped = plain | 1 << (libc::SIGPIPE - 1) | 1 << (libc::SIGUSR2 - 1);
    for style in ["", "--vfork"] {
        let script = format!("trap '' PIPE USR2; exec {launcher} {style} -q sh -c '{show}'");
        let out = Command::new("sh").args(["-c", &script]).output().unwrap();
        assert_eq!(sig_ign(&stdout(&out)), trapped, "{style}: {}", stderr(&out));

        let script = format!("exec {launcher} {style} -q sh -c '{show}'");
        let out = Command::new("sh").args(["-c", &script]).output().unwrap();
        assert_eq!(sig_ign(&stdout(&out)), plain, "{style}: {}", stderr(&out));
    }
}

/// The ignored-signals mask from a `SigIgn:` line of /proc/PID/status.
fn sig_ign(status: &str) -> u64 {
    let line = status.lines().find_map(|l| l.strip_prefix("SigIgn:"));
    u64::from_str_radix(line.expect("a SigIgn line").trim(), 16).unwrap()
}

#[test]
fn show_ns_is_refused_before_anything_runs() {
    let host = Host::snapshot();
    let dir = tempdir();
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    for args in [
        ["--vfork", "--show-ns", "sh", "-c", &touch],
        ["--show-ns", "--vfork", "sh", "-c", &touch],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(125), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.starts_with("nsclone: --vfork cannot serve --show-ns: "),
            "{err}"
        );
        assert!(!marker.exists(), "nothing may run");
    }
    host.assert_unchanged();
}

/// Not quiet: the launcher cannot hold the child before exec, so it
/// announces the pid right after; both lines are still there.
#[test]
fn the_announcement_comes_after_the_exec() {
    if !privileged("--vfork announcement") {
        return;
    }
    let _host = Host::guard();
    let out = run(&["--vfork", "echo", "hi"]);
    assert_eq!(stdout(&out), "hi\n");
    let err = stderr(&out);
    let lines: Vec<_> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("nsclone: setting up new namespaces (uts)"));
    assert!(lines[1].starts_with("nsclone: running [\"echo\", \"hi\"] as pid "));
}

#[test]
fn no_descriptor_of_the_launcher_reaches_the_command() {
    if !privileged("--vfork descriptors") {
        return;
    }
    let _host = Host::guard();
    let list = "ls /proc/$$/fd";
    let direct = stdout(&Command::new("sh").args(["-c", list]).output().unwrap());
    let out = run(&["--vfork", "-q", "sh", "-c", list]);
    assert_eq!(stdout(&out), direct, "{}", stderr(&out));
}

#[test]
fn strace_shows_a_vfork_style_clone_on_our_stack() {
    if !can_strace("--vfork strace") {
        return;
    }
    let _host = Host::guard();
    let log = strace_launch(&["--vfork", "-q", "true"]);
    let clones: Vec<_> = log.lines().filter(|l| l.contains("clone(")).collect();
    assert_eq!(clones.len(), 1, "{log}");
    for flag in ["CLONE_VM", "CLONE_VFORK", "CLONE_NEWUTS", "SIGCHLD"] {
        assert!(clones[0].contains(flag), "{flag}: {log}");
    }
    assert!(!clones[0].contains("child_stack=NULL"), "{log}");
    assert!(!log.contains("clone3("), "{log}");
    assert_eq!(log.matches("execve(").count(), 2, "{log}");
    assert_eq!(log.matches("sethostname(").count(), 1, "{log}");
}

#[test]
fn the_library_refuses_spawn_with_in_vfork_style() {
    let mut command = nsclone::Command::new("true");
    command.vfork(true);
    let mut called = false;
    let error = command.spawn_with(|_| called = true).unwrap_err();
    assert!(matches!(error, Error::Vfork(_)), "{error}");
    assert_eq!(error.exit_code(), 125);
    assert!(!called, "refused before any clone");
    assert!(error.to_string().starts_with("vfork style cannot serve "));
}

#[test]
fn the_library_spawns_in_vfork_style() {
    if !privileged("Command::vfork") {
        return;
    }
    let host = Host::snapshot();
    let mut command = nsclone::Command::new("sh");
    command.args(["-c", "test \"$(hostname)\" = vf && exit 9"]);
    command.hostname(nsclone::namespace::Hostname::new("vf").unwrap());
    command.vfork(true);
    assert_eq!(
        command.spawn().unwrap().wait().unwrap(),
        WaitStatus::Exited(9)
    );
    let mut missing = nsclone::Command::new("no-such-command-nsclone");
    let error = missing.vfork(true).spawn().unwrap_err();
    assert_eq!(error.exit_code(), 127, "{error}");
    host.assert_unchanged();
}

/// The library resets SIGPIPE by default, as std::process::Command does:
/// this test program, like every Rust program with a std `main`, ignores it.
#[test]
fn the_library_gives_the_command_sigpipe_back() {
    if !privileged("SIGPIPE") {
        return;
    }
    let _host = Host::guard();
    let dir = tempdir();
    let file = dir.path().join("sigign");
    let show = format!("grep SigIgn /proc/self/status > {}", file.display());
    let ours = sig_ign(&std::fs::read_to_string("/proc/self/status").unwrap());
    assert_ne!(
        ours & 1 << (libc::SIGPIPE - 1),
        0,
        "std ignores SIGPIPE here"
    );
    for vfork in [false, true] {
        let mut command = nsclone::Command::new("sh");
        command.args(["-c", &show]).vfork(vfork);
        assert_eq!(
            command.spawn().unwrap().wait().unwrap(),
            WaitStatus::Exited(0)
        );
        let line = std::fs::read_to_string(&file).unwrap();
        let expected = ours & !(1 << (libc::SIGPIPE - 1));
        assert_eq!(sig_ign(&line), expected, "vfork {vfork}");
    }
}

extern "C" fn on_usr1(_: i32) {}

/// The action of `sig` in the calling process, asked of the kernel through
/// libc (not through nsclone's own wrapper): `SIG_DFL`, `SIG_IGN` or the
/// handler's address; `None` if the call fails. Makes one system call and
/// cannot panic: safe in the vfork-style child.
fn action_of(sig: i32) -> Option<libc::sighandler_t> {
    // SAFETY: a zeroed sigaction is a valid value; sigaction(2) only reads
    // the action (none here) and writes the old one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        (libc::sigaction(sig, std::ptr::null(), &mut old) == 0).then_some(old.sa_sigaction)
    }
}

/// In vfork style a handler of the parent would run in the parent's own
/// memory: the child resets them all to the default, and since it has its
/// own copy of the handler table (no CLONE_SIGHAND), the parent keeps its.
#[test]
fn the_child_resets_handlers_without_touching_the_parents() {
    let handler = on_usr1 as *const () as libc::sighandler_t;
    // SAFETY: installs a handler that does nothing, for SIGUSR1, which no
    // other test of this program uses.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }
    assert_eq!(action_of(libc::SIGUSR1), Some(handler));
    let stack = Stack::new().unwrap();
    let mut child = || -> i32 {
        let before = action_of(libc::SIGUSR1);
        let reset = child::reset_handlers();
        let after = action_of(libc::SIGUSR1);
        match (before, reset, after) {
            (Some(before), Ok(()), Some(libc::SIG_DFL)) if before == handler => 0,
            _ => 1,
        }
    };
    let flags = libc::SIGCHLD as u64 | VFORK_FLAGS;
    // SAFETY: the closure only makes system calls and writes nothing of
    // ours; we sleep until it has exited.
    let pid = unsafe { clone(flags, &stack, &mut child) }.unwrap();
    assert_eq!(common::wait(pid), WaitStatus::Exited(0));
    assert_eq!(
        action_of(libc::SIGUSR1),
        Some(handler),
        "the parent's handler must survive"
    );
    assert_eq!(action_of(libc::SIGUSR2), Some(libc::SIG_DFL));
}

#[test]
fn user_namespaces_are_refused_before_anything_runs() {
    let host = Host::snapshot();
    let out = run(&["--vfork", "--user", "true"]);
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with("nsclone: --vfork cannot serve --user: "),
        "{err}"
    );
    host.assert_unchanged();
}

/// Every namespace the child sets up itself works in vfork style too: the
/// child's steps (mounts, lo, sethostname) only make system calls.
#[test]
fn the_other_namespaces_work_in_vfork_style() {
    if !privileged("--vfork namespaces") {
        return;
    }
    let host = Host::snapshot();
    let script = "echo $$; for ns in cgroup ipc mnt net pid uts; do \
                  readlink /proc/self/ns/$ns; done";
    let args = [
        "--vfork",
        "-q",
        "-i",
        "-n",
        "-C",
        "--mount-proc",
        "--kill-child",
    ];
    let out = nsclone()
        .args(args)
        .args(["sh", "-c", script])
        .output()
        .unwrap();
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first(), Some(&"1"), "PID 1: {text}{}", stderr(&out));
    for (ns, inside) in ["cgroup", "ipc", "mnt", "net", "pid", "uts"]
        .iter()
        .zip(&lines[1..])
    {
        let outside = std::fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
        assert_ne!(*inside, outside.to_str().unwrap(), "{ns} must be new");
    }
    host.assert_unchanged();
}

/// With a time namespace (Linux 6.2 and later), the command sees the
/// offset in vfork style as in fork style. Before 6.2 the vfork-style child
/// would never enter it, and nsclone refuses, in one line, before anything
/// runs: the kernel's release says which of the two this machine must do.
#[test]
fn clock_offsets_reach_the_command() {
    if !privileged("--vfork --boottime") {
        return;
    }
    let _host = Host::guard();
    let out = run(&[
        "--vfork",
        "-q",
        "--boottime",
        "1000000",
        "cat",
        "/proc/uptime",
    ]);
    if !kernel_at_least(6, 2) {
        assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "the command ran");
        return;
    }
    let uptime: f64 = stdout(&out)
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{}", stderr(&out)));
    assert!(uptime >= 1_000_000.0, "{uptime}");
}
