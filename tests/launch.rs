//! The launch, run for real: a command in a new UTS namespace, its hostname,
//! its exit status, its signals, its input and output, and the host left
//! untouched. Each test prints nothing on success and says what differed on
//! failure, like the clone(2) example program prints both sides.

mod common;

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use common::{
    Host, can_strace, executable, nsclone, privileged, run, stderr, stdout, strace_launch, tempdir,
};

#[test]
fn the_child_has_its_own_hostname_and_the_host_keeps_its_own() {
    if !privileged("hostname") {
        return;
    }
    let host = Host::snapshot();
    let out = run(&["-q", "-H", "inside", "hostname"]);
    assert_eq!(stdout(&out), "inside\n", "{}", stderr(&out));
    let out = run(&["-q", "uname", "-n"]);
    assert_eq!(stdout(&out), "newhostname\n", "the article's default");
    host.assert_unchanged();
}

#[test]
fn only_the_uts_namespace_differs_from_the_host() {
    if !privileged("namespaces") {
        return;
    }
    let _host = Host::guard();
    let script = "for ns in cgroup ipc mnt net pid time user uts; do \
                  echo $ns $(readlink /proc/$$/ns/$ns); done";
    let inside = stdout(&run(&["-q", "sh", "-c", script]));
    let outside = stdout(&Command::new("sh").args(["-c", script]).output().unwrap());
    let (inside, outside): (Vec<_>, Vec<_>) = (inside.lines().collect(), outside.lines().collect());
    assert_eq!(inside.len(), 8, "{inside:?}");
    for (i, o) in inside.iter().zip(&outside) {
        if o.starts_with("uts ") {
            assert_ne!(i, o, "the UTS namespace must be new");
        } else {
            assert_eq!(i, o, "only the UTS namespace may differ");
        }
    }
}

#[test]
fn show_ns_marks_exactly_the_uts_row() {
    if !privileged("--show-ns") {
        return;
    }
    let _host = Host::guard();
    let out = run(&["--show-ns", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    // Marked rows read `  * uts  uts:[...]  uts:[...]  user:[...]`.
    let marked: Vec<_> = err.lines().filter(|l| l.starts_with("  * ")).collect();
    assert_eq!(marked.len(), 1, "{err}");
    assert!(marked[0].starts_with("  * uts "), "{err}");
    assert!(err.contains("running [\"true\"] as pid"), "{err}");
    assert!(out.stdout.is_empty(), "nsclone's own output goes to stderr");
}

#[test]
fn exit_codes_pass_through() {
    if !privileged("exit codes") {
        return;
    }
    let _host = Host::guard();
    for code in [0, 1, 42, 255] {
        let out = run(&["-q", "sh", "-c", &format!("exit {code}")]);
        assert_eq!(out.status.code(), Some(code));
    }
}

#[test]
fn a_missing_command_exits_127() {
    if !privileged("127") {
        return;
    }
    let _host = Host::guard();
    let out = run(&["-q", "no-such-command-nsclone"]);
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        stderr(&out),
        "nsclone: execvp(\"no-such-command-nsclone\"): ENOENT (No such file or directory): \
         command not found\n"
    );
}

#[test]
fn a_file_that_cannot_be_executed_exits_126() {
    if !privileged("126") {
        return;
    }
    let _host = Host::guard();
    let dir = tempdir();
    let file = dir.path().join("data");
    std::fs::write(&file, "not a program").unwrap();
    let out = run(&["-q", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126));
    assert!(
        stderr(&out).contains("EACCES (Permission denied): it has no execute permission"),
        "{}",
        stderr(&out)
    );

    let out = run(&["-q", dir.path().to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(126),
        "a directory: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).ends_with("EACCES (Permission denied): it is a directory\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_script_whose_interpreter_is_missing_exits_126() {
    if !privileged("bad interpreter") {
        return;
    }
    let _host = Host::guard();
    let dir = tempdir();
    let script = executable(dir.path(), "bad", "#!/no/such/interpreter\n");
    let out = run(&["-q", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126));
    assert!(
        stderr(&out).contains(
            "ENOENT (No such file or directory): \
             its interpreter \"/no/such/interpreter\" (the #! line) does not exist"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_script_without_a_shebang_runs_through_bin_sh() {
    if !privileged("ENOEXEC") {
        return;
    }
    let _host = Host::guard();
    let dir = tempdir();
    executable(
        dir.path(),
        "plain",
        "echo from a plain script: \"$@\" $(hostname)\n",
    );
    let path = format!("{}:/usr/bin:/bin", dir.path().display());
    let out = nsclone()
        .args(["-q", "plain", "a b"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        "from a plain script: a b newhostname\n",
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_path_search_skips_entries_without_the_command() {
    if !privileged("PATH") {
        return;
    }
    let _host = Host::guard();
    let dir = tempdir();
    executable(dir.path(), "found-here", "#!/bin/sh\necho found\n");
    let path = format!("/no/such/dir:/etc/passwd:{}", dir.path().display());
    let out = nsclone()
        .args(["-q", "found-here"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "found\n", "{}", stderr(&out));
}

#[test]
fn the_child_is_killed_by_the_same_signal_as_the_command() {
    if !privileged("signals") {
        return;
    }
    let _host = Host::guard();
    // SIGPIPE too: nsclone, with no std runtime, does not ignore it as Rust
    // programs do (see the README's Signals section).
    for (name, sig) in [
        ("TERM", libc::SIGTERM),
        ("INT", libc::SIGINT),
        ("KILL", libc::SIGKILL),
        ("PIPE", libc::SIGPIPE),
    ] {
        let out = run(&["-q", "sh", "-c", &format!("kill -{name} $$")]);
        assert_eq!(
            out.status.signal(),
            Some(sig),
            "SIG{name}: {:?}",
            out.status
        );
    }
}

#[test]
fn sigterm_and_sighup_to_the_launcher_reach_the_child() {
    if !privileged("forwarding") {
        return;
    }
    let _host = Host::guard();
    for (sig, code) in [(libc::SIGTERM, 7), (libc::SIGHUP, 8)] {
        let script = "trap 'exit 7' TERM; trap 'exit 8' HUP; echo ready; \
                      while :; do sleep 0.05; done";
        let mut child = nsclone()
            .args(["-q", "sh", "-c", script])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = [0u8; 6];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut ready).unwrap();
        assert_eq!(&ready, b"ready\n");
        nsclone::sys::kill(child.id() as i32, sig, "the test").unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "signal {sig}: {status:?}");
    }
}

#[test]
fn stdin_stdout_argv_and_environment_pass_through() {
    if !privileged("pass-through") {
        return;
    }
    let _host = Host::guard();
    let mut child = nsclone()
        .args(["-q", "tr", "a-z", "A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"piped through\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "PIPED THROUGH\n");

    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9 \xff");
    let out = nsclone()
        .args(["-q", "printf", "[%s]\n", "two words", "", "--hostname"])
        .arg(odd)
        .env("NSCLONE_TEST_VAR", odd)
        .output()
        .unwrap();
    assert_eq!(
        out.stdout,
        b"[two words]\n[]\n[--hostname]\n[caf\xe9 \xff]\n"
    );

    let out = nsclone()
        .args(["-q", "env"])
        .env("NSCLONE_TEST_VAR", odd)
        .output()
        .unwrap();
    let wanted = b"NSCLONE_TEST_VAR=caf\xe9 \xff\n";
    assert!(
        out.stdout.windows(wanted.len()).any(|w| w == wanted),
        "environment lost"
    );
}

#[test]
fn no_descriptor_of_the_launcher_reaches_the_command() {
    if !privileged("descriptors") {
        return;
    }
    let _host = Host::guard();
    let list = "ls /proc/$$/fd";
    let direct = stdout(&Command::new("sh").args(["-c", list]).output().unwrap());
    for mode in [&["-q"][..], &["--show-ns"][..]] {
        let out = nsclone()
            .args(mode)
            .args(["sh", "-c", list])
            .output()
            .unwrap();
        assert_eq!(stdout(&out), direct, "{mode:?}: {}", stderr(&out));
    }
}

/// Command lines nsclone must refuse, each with the start of its one-line
/// error. Every one is followed by a command that would leave a mark if it
/// ran. Each new option that takes a value adds its bad values here (and
/// `--vfork` the options it cannot serve, issue 5).
fn bad_command_lines() -> Vec<(Vec<String>, &'static str)> {
    let row = |args: &[&str], message| (args.iter().map(|a| a.to_string()).collect(), message);
    vec![
        row(&["--frobnicate"], "nsclone: invalid option '--frobnicate'"),
        row(&["-x"], "nsclone: invalid option '-x'"),
        row(&["-qz"], "nsclone: invalid option '-z'"),
        row(&["--ab\ncd"], "nsclone: invalid option '--ab\\ncd'"),
        row(
            &["--quiet=yes"],
            "nsclone: unexpected argument for option '--quiet'",
        ),
        row(
            &["-H", ""],
            "nsclone: --hostname: a hostname cannot be empty",
        ),
        row(
            &["--hostname="],
            "nsclone: --hostname: a hostname cannot be empty",
        ),
        row(
            &["-H", &"x".repeat(65)],
            "nsclone: --hostname: 65 bytes is too long: hostnames are at most 64 bytes",
        ),
        row(
            &["--kill-child=NOSUCH"],
            "nsclone: --kill-child: \"NOSUCH\" is not a signal",
        ),
        row(
            &["--kill-child=0"],
            "nsclone: --kill-child: \"0\" is not a signal",
        ),
        row(
            &["--kill-child=65"],
            "nsclone: --kill-child: \"65\" is not a signal",
        ),
        row(
            &["--kill-child="],
            "nsclone: --kill-child: \"\" is not a signal",
        ),
        row(
            &["--monotonic=abc"],
            "nsclone: --monotonic: \"abc\" is not a whole number of seconds",
        ),
        row(
            &["--boottime", "1.5"],
            "nsclone: --boottime: \"1.5\" is not a whole number of seconds",
        ),
        row(
            &["-T", "--boottime="],
            "nsclone: --boottime: \"\" is not a whole number of seconds",
        ),
        row(
            &["--monotonic", "99999999999999999999"],
            "nsclone: --monotonic: \"99999999999999999999\" is not a whole number",
        ),
    ]
}

/// Command lines whose last option lacks its value: nothing may follow.
fn missing_values() -> Vec<(Vec<String>, &'static str)> {
    vec![
        (
            vec!["--hostname".into()],
            "nsclone: missing argument for option '--hostname'",
        ),
        (
            vec!["-q".into(), "-H".into()],
            "nsclone: missing argument for option '-H'",
        ),
        (
            vec!["--monotonic".into()],
            "nsclone: missing argument for option '--monotonic'",
        ),
    ]
}

#[test]
fn bad_input_fails_with_125_before_anything_runs() {
    let _host = Host::guard();
    let dir = tempdir();
    let mark = dir.path().join("ran");
    let touch = ["touch".to_string(), mark.to_str().unwrap().to_string()];
    let with_command = bad_command_lines().into_iter().map(|(mut args, message)| {
        args.extend(touch.iter().cloned());
        (args, message)
    });
    for (args, message) in with_command.chain(missing_values()) {
        let out = nsclone().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(125), "{args:?}");
        let err = stderr(&out);
        assert!(err.starts_with(message), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains("--help"), "a usage hint: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout is the command's");
        assert!(!mark.exists(), "{args:?}: the command ran");
    }
}

#[test]
fn help_and_version_print_and_exit_0() {
    let help = run(&["--help"]);
    assert!(help.status.success());
    assert!(stdout(&help).contains("Usage: nsclone [OPTIONS] [--] [COMMAND [ARG...]]"));
    let version = run(&["-V"]);
    assert_eq!(
        stdout(&version),
        format!("nsclone {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_interactive_shell_answers_through_a_terminal() {
    if !privileged("pty") {
        return;
    }
    let host = Host::snapshot();
    let mut command = nsclone();
    command.args(["-q", "-H", "ptyhost", "sh"]).env("PS1", "$ ");
    let mut sh = rexpect::session::spawn_command(command, Some(10_000)).unwrap();
    sh.exp_string("$ ").unwrap();
    sh.send_line("hostname").unwrap();
    sh.exp_string("ptyhost").unwrap();
    // Ctrl-C reaches the whole foreground group; the launcher must survive.
    // The command says when it runs (the terminal echoes `sl""eeping` as
    // typed, so only the command prints `sleeping`): no guess of how long
    // the shell takes to start it. It would sleep far longer than the wait
    // for the next prompt, so only Ctrl-C can end it in time.
    sh.send_line("sh -c 'echo sl\"\"eeping; exec sleep 1000'")
        .unwrap();
    sh.exp_string("sleeping").unwrap();
    sh.send_control('c').unwrap();
    sh.send_line("echo still $((40 + 2))").unwrap();
    sh.exp_string("still 42").unwrap();
    sh.send_line("exit 3").unwrap();
    let status = sh.process().wait().unwrap();
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 3)),
        "{status:?}"
    );
    host.assert_unchanged();
}

#[test]
fn strace_shows_one_clone_a_child_sethostname_and_two_execs() {
    if !can_strace("strace") {
        return;
    }
    let _host = Host::guard();
    let log = strace_launch(&["-q", "true"]);
    let lines: Vec<&str> = log.lines().collect();
    let calls = |name: &str| -> Vec<&str> {
        let prefix = format!("{name}(");
        let is_call = |l: &&str| {
            l.split_once(' ')
                .is_some_and(|(_, c)| c.trim_start().starts_with(&prefix))
        };
        lines.iter().copied().filter(is_call).collect()
    };
    let clones = calls("clone");
    assert_eq!(clones.len(), 1, "{log}");
    assert!(clones[0].contains("CLONE_NEWUTS"), "{log}");
    assert!(
        !clones[0].contains("child_stack=NULL"),
        "a stack of our own: {log}"
    );
    assert!(calls("clone3").is_empty() && calls("fork").is_empty() && calls("vfork").is_empty());

    let launcher = lines[0].split(' ').next().unwrap();
    let child = clones[0].rsplit("= ").next().unwrap().trim();
    let sethostname = calls("sethostname");
    assert_eq!(sethostname.len(), 1, "{log}");
    assert!(
        sethostname[0].starts_with(&format!("{child} ")),
        "made by the child: {log}"
    );
    assert!(sethostname[0].contains("\"newhostname\""), "{log}");

    let execs = calls("execve");
    assert_eq!(execs.len(), 2, "nsclone itself, then the command: {log}");
    assert!(execs[0].starts_with(&format!("{launcher} ")), "{log}");
    assert!(
        execs[1].starts_with(&format!("{child} ")) && execs[1].contains("= 0"),
        "{log}"
    );
}
