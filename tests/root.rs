//! `--root DIR`: a root of its own, run for real in a minimal root file
//! system built from a static busybox, as root and as uid 65534 with
//! `--user`.
//!
//! Each test builds the tree in a temporary directory: `bin/busybox` (the
//! Debian package `busybox-static`, which `.ci/run` installs) with a
//! relative symbolic link per applet, and empty `dev`, `proc` and `tmp`.
//! (`busybox --install -s` would write absolute links to wherever busybox
//! lies on the host, `/usr/bin/busybox` on a merged-/usr system, which do
//! not resolve inside.) Then it shows, from inside, what the command sees:
//! `/` is the directory, nothing of the host is reachable, not by `..` nor
//! by the classic chroot escape, `/proc` lists only the container's
//! processes, and a command missing in the tree is not found. Every test
//! checks that the host's mount table, hostname and interfaces are as they
//! were (`Host::guard`).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{
    Host, Who, executable_by_nobody, nsclone_as, privileged, skip, stderr, stdout, tempdir,
};

/// Where Debian's `busybox-static` installs its binary.
const BUSYBOX: &str = "/bin/busybox";

use Who::Nobody;

/// Whether a busybox tree can be built here, saying loudly why not.
fn has_busybox(test: &str) -> bool {
    Path::new(BUSYBOX).exists() || skip(test, "no static busybox (apt-get install busybox-static)")
}

/// Both, or only the invoker where the kernel refuses unprivileged user
/// namespaces (said loudly); no one without root or busybox.
fn who_can_run(test: &str) -> Vec<Who> {
    match privileged(test) && has_busybox(test) {
        true => common::who_can_run(test),
        false => vec![],
    }
}

/// A minimal root file system: busybox and its applets in `bin`, empty
/// `dev`, `proc` and `tmp` (`tmp` writable by all, as usual), the whole
/// tree readable by uid 65534. The temporary directory holds it as `root`,
/// beside whatever a test puts outside it.
struct Rootfs {
    parent: tempfile::TempDir,
}

impl Rootfs {
    fn new() -> Rootfs {
        let parent = tempdir();
        std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let root = parent.path().join("root");
        for dir in ["bin", "dev", "proc", "tmp"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777))
            .unwrap();
        std::fs::copy(BUSYBOX, root.join("bin/busybox")).unwrap();
        let list = Command::new(BUSYBOX).arg("--list").output().unwrap();
        for applet in String::from_utf8(list.stdout).unwrap().lines() {
            if applet != "busybox" {
                std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
            }
        }
        Rootfs { parent }
    }

    /// The directory that becomes `/`.
    fn root(&self) -> PathBuf {
        self.parent.path().join("root")
    }

    /// The root's path, as an argument.
    fn dir(&self) -> String {
        self.root().to_str().unwrap().to_owned()
    }

    /// A file beside the root, on the host only: it must never be seen.
    fn outside(&self) -> PathBuf {
        let path = self.parent.path().join("host-only");
        std::fs::write(&path, "the host's\n").unwrap();
        path
    }
}

/// Run nsclone as `who` with `args` (for [`Nobody`], `--user` added), with
/// a PATH that the busybox tree answers, under the deadline.
fn run_as(who: Who, args: &[&str]) -> Output {
    let (mut command, _copy) = nsclone_as(who);
    command
        .args(args)
        .current_dir("/")
        .env("PATH", "/usr/local/bin:/usr/bin:/bin");
    common::run_within(&mut command, &format!("{who:?} nsclone {args:?}"))
}

/// Run `script` with sh inside `rootfs` as `who`, with `flags`; it must
/// succeed. Returns its output.
fn sh_in(who: Who, rootfs: &Rootfs, flags: &[&str], script: &str) -> String {
    let dir = rootfs.dir();
    let mut args = vec!["-q", "--root", &dir];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["sh", "-c", script]);
    let out = run_as(who, &args);
    assert!(
        out.status.success(),
        "{who:?} {flags:?} {script:?}: {}\n{}{}",
        common::ending(&out),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// The names in a directory, sorted, as `ls -A` would list them.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

#[test]
fn slash_inside_is_the_directory() {
    for who in who_can_run("slash_inside_is_the_directory") {
        let _host = Host::guard();
        let rootfs = Rootfs::new();
        std::fs::write(rootfs.root().join("FILE"), "made outside\n").unwrap();
        let out = sh_in(who, &rootfs, &[], "cat /FILE; ls -A /");
        let mut expected = vec!["made outside".to_owned()];
        expected.extend(names(&rootfs.root()));
        assert_eq!(lines(&out), expected, "{who:?}");
        // And what the command writes in its / lands in the directory.
        sh_in(who, &rootfs, &[], "echo made inside > /tmp/FILE");
        let written = std::fs::read_to_string(rootfs.root().join("tmp/FILE")).unwrap();
        assert_eq!(written, "made inside\n", "{who:?}");
    }
}

#[test]
fn the_old_root_is_not_reachable() {
    for who in who_can_run("the_old_root_is_not_reachable") {
        let _host = Host::guard();
        let rootfs = Rootfs::new();
        let outside = rootfs.outside();
        let host_path = outside.to_str().unwrap();
        let tree = names(&rootfs.root());
        // `..` of `/` is `/`, however far one climbs, and from anywhere.
        let script = format!(
            "cd /..; pwd; ls -A; cd /tmp/../../../..; pwd; ls -A; \
             ls {host_path} 2>&1; ls /../{host_path} 2>&1; true"
        );
        let out = sh_in(who, &rootfs, &[], &script);
        let mut expected = vec!["/".to_owned()];
        expected.extend(tree.clone());
        expected.push("/".to_owned());
        expected.extend(tree.clone());
        assert_eq!(lines(&out)[..expected.len()], expected, "{who:?}:\n{out}");
        assert!(
            out.contains(&format!("ls: {host_path}: No such file or directory")),
            "{who:?}: the host's file was seen:\n{out}"
        );
        // The mount table inside holds the new root and nothing of the
        // host's: with --pid, the fresh /proc is the only other mount.
        let out = sh_in(who, &rootfs, &["--pid"], "cat /proc/self/mountinfo");
        let points: Vec<&str> = out.lines().map(|l| l.split(' ').nth(4).unwrap()).collect();
        assert_eq!(points, ["/", "/proc"], "{who:?}:\n{out}");
        // A process's root, as /proc shows it, is the new root too.
        let root_link = sh_in(who, &rootfs, &["--pid"], "readlink /proc/1/root");
        assert_eq!(root_link, "/\n", "{who:?}");
    }
}

#[test]
fn a_chroot_into_a_subdirectory_does_not_climb_out() {
    for who in who_can_run("a_chroot_into_a_subdirectory_does_not_climb_out") {
        let _host = Host::guard();
        let rootfs = Rootfs::new();
        let host_path = rootfs.outside();
        // busybox's chroot does chdir("/") after chroot(2), so it cannot
        // leave a current directory outside; climb from the jail anyway.
        let script = format!(
            "mkdir -p /tmp/jail && cp /bin/busybox /tmp/jail/ && \
             chroot /tmp/jail /busybox sh -c 'cd ../../../..; /busybox ls -A /; \
             /busybox ls {} 2>&1; true'",
            host_path.display()
        );
        let out = sh_in(who, &rootfs, &[], &script);
        assert_eq!(lines(&out)[0], "busybox", "{who:?}:\n{out}");
        assert!(out.contains("No such file or directory"), "{who:?}:\n{out}");
    }
}

/// The classic escape from chroot(2), in C: chroot into a subdirectory
/// while the current directory stays above it, climb with `..` (which
/// stops only at the root, never met on the way up), then chroot(".").
/// Prints `escaped` and exits 0 if `argv[1]`, a path of the host, can then
/// be seen; `stayed` and 1 if not.
const ESCAPE_C: &str = include_str!("escape.c");

/// Compile [`ESCAPE_C`], static (the tree has no libc), into `bin`.
fn compile_escape(bin: &Path) -> Result<PathBuf, String> {
    let dir = tempdir();
    let source = dir.path().join("escape.c");
    std::fs::write(&source, ESCAPE_C).unwrap();
    let target = bin.join("escape");
    let out = Command::new("cc")
        .args(["-static", "-O", "-o"])
        .arg(&target)
        .arg(&source)
        .output()
        .map_err(|e| format!("no C compiler (cc): {e}"))?;
    match out.status.success() {
        true => Ok(target),
        false => Err(format!("cc -static failed: {}", stderr(&out))),
    }
}

#[test]
fn the_chroot_escape_works_under_chroot_and_not_under_pivot_root() {
    let test = "the_chroot_escape_works_under_chroot_and_not_under_pivot_root";
    let whos = who_can_run(test);
    if whos.is_empty() {
        return;
    }
    let _host = Host::guard();
    let rootfs = Rootfs::new();
    if let Err(why) = compile_escape(&rootfs.root().join("bin")) {
        skip(test, &why);
        return;
    }
    let host_path = rootfs.outside();
    let host_path = host_path.to_str().unwrap();
    // Under chroot(8), which chroots and changes into the new root but
    // leaves the mount tree whole, the program climbs out.
    let out = Command::new("chroot")
        .arg(rootfs.root())
        .args(["/bin/escape", host_path])
        .output()
        .unwrap();
    assert_eq!(
        (stdout(&out).as_str(), out.status.code()),
        ("escaped\n", Some(0)),
        "chroot(8) was expected to be escapable: {}",
        stderr(&out)
    );
    // Under --root, the old root is not in the mount tree any more.
    for who in whos {
        let dir = rootfs.dir();
        let out = run_as(who, &["-q", "--root", &dir, "/bin/escape", host_path]);
        assert_eq!(
            (stdout(&out).as_str(), out.status.code()),
            ("stayed\n", Some(1)),
            "{who:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn proc_inside_shows_only_the_containers_processes() {
    for who in who_can_run("proc_inside_shows_only_the_containers_processes") {
        let _host = Host::guard();
        let rootfs = Rootfs::new();
        // With --pid, a fresh /proc is mounted in the new root: `ps` shows
        // the shell, PID 1, and itself; no process of the host.
        // (`; true`: a shell may exec its last command in place of itself.)
        let out = sh_in(who, &rootfs, &["--pid"], "echo $$; ps -o pid,comm; true");
        let lines = lines(&out);
        assert_eq!(lines[0], "1", "{who:?}: the command is PID 1");
        let pids: Vec<u32> = lines[2..]
            .iter()
            .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(pids.len(), 2, "{who:?}: only sh and ps:\n{out}");
        assert_eq!(pids[0], 1, "{who:?}:\n{out}");
        assert!(lines[2].ends_with("sh"), "{who:?}:\n{out}");
        // Without --pid, nothing is mounted there: the host's /proc is not
        // reachable, and the tree's own /proc is empty.
        let out = sh_in(who, &rootfs, &[], "ls -A /proc; echo end");
        assert_eq!(out, "end\n", "{who:?}");
    }
}

#[test]
fn a_command_missing_in_the_new_root_is_not_found() {
    for who in who_can_run("a_command_missing_in_the_new_root_is_not_found") {
        let _host = Host::guard();
        let rootfs = Rootfs::new();
        let dir = rootfs.dir();
        // bash is on the host, not in the busybox tree: 127, as chroot(8).
        assert!(Path::new("/bin/bash").exists());
        let out = run_as(who, &["-q", "--root", &dir, "bash", "-c", "true"]);
        assert_eq!(out.status.code(), Some(127), "{who:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "nsclone: execvp(\"bash\"): ENOENT (No such file or directory): command not found\n"
        );
        let out = run_as(who, &["-q", "--root", &dir, "/bin/bash"]);
        assert_eq!(out.status.code(), Some(127), "{who:?}: {}", stderr(&out));
    }
}

#[test]
fn what_cannot_be_a_root_is_refused_with_125_before_anything_runs() {
    for who in who_can_run("what_cannot_be_a_root_is_refused_with_125_before_anything_runs") {
        let _host = Host::guard();
        let rootfs = Rootfs::new();
        let marker = rootfs.parent.path().join("ran");
        let marker = marker.to_str().unwrap();
        let file = rootfs.root().join("bin/busybox");
        let no_proc = rootfs.parent.path().join("noproc");
        std::fs::create_dir(&no_proc).unwrap();
        std::fs::set_permissions(&no_proc, std::fs::Permissions::from_mode(0o755)).unwrap();
        let cases: [(&str, &[&str], &str); 5] = [
            (
                "/nonexistent-nsclone-root",
                &[],
                "nsclone: --root \"/nonexistent-nsclone-root\": ENOENT (No such file or \
                 directory): the new root must be an existing directory",
            ),
            (
                file.to_str().unwrap(),
                &[],
                "a regular file, not a directory: the new root must be a directory",
            ),
            (
                "/",
                &[],
                "this is the current root already: pivot_root(2) cannot make it the new one",
            ),
            ("/tmp/..", &[], "this is the current root already"),
            (
                no_proc.to_str().unwrap(),
                &["--pid"],
                "/noproc/proc\": ENOENT (No such file or directory): with a new PID namespace \
                 a fresh /proc is mounted there",
            ),
        ];
        for (dir, flags, expected) in cases {
            let mut args = vec!["-q", "--root", dir];
            args.extend_from_slice(flags);
            args.extend_from_slice(&["/bin/touch", marker]);
            let out = run_as(who, &args);
            let message = stderr(&out);
            assert_eq!(out.status.code(), Some(125), "{who:?} {dir}: {message}");
            assert_eq!(message.lines().count(), 1, "{who:?} one line: {message}");
            assert!(message.contains(expected), "{who:?} {dir}: {message}");
            assert!(
                !Path::new(marker).exists(),
                "{who:?} {dir}: the command ran"
            );
        }
        // The same directory without --pid needs no /proc: it runs (and
        // finds no command there).
        let out = run_as(who, &["-q", "--root", no_proc.to_str().unwrap(), "true"]);
        assert_eq!(out.status.code(), Some(127), "{who:?}: {}", stderr(&out));
    }
}

#[test]
fn a_step_refused_inside_is_named_with_its_errno_and_a_hint() {
    // What only the kernel can tell is reported by the child, naming the
    // step. Each case is set up in a private mount namespace (util-linux
    // unshare), so the host's mounts never change.
    let test = "a_step_refused_inside_is_named_with_its_errno_and_a_hint";
    let whos = who_can_run(test);
    if whos.is_empty() {
        return;
    }
    let _host = Host::guard();
    let rootfs = Rootfs::new();

    // 1. A launcher running chroot'ed, as nsclone (static) can: its root
    // is a directory, not a mount point. The propagation of / cannot be
    // changed then (nor could pivot_root pivot away from it): EINVAL.
    let jail = rootfs.parent.path().join("jail");
    std::fs::create_dir_all(jail.join("proc")).unwrap();
    std::fs::create_dir_all(jail.join("box")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_nsclone"), jail.join("nsclone")).unwrap();
    let script = "mount -t proc proc \"$1/proc\" && mount --bind \"$2\" \"$1/box\" && \
                  exec chroot \"$1\" /nsclone -q --root /box /bin/true";
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(&jail)
        .arg(rootfs.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "nsclone: child: mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL): EINVAL (Invalid \
         argument): / is not a mount point: nsclone runs chroot'ed into a directory, where the \
         propagation of / cannot be changed (nor can pivot_root pivot away from it)\n"
    );

    // 2. Without root, proc may be mounted only where a proc is fully
    // visible; a /proc with a file system mounted over a part of it, as
    // container runtimes leave it, is not: EPERM at the proc of the new
    // root.
    if !whos.contains(&Nobody) {
        return;
    }
    let (bin, _guard) = executable_by_nobody(Path::new(env!("CARGO_BIN_EXE_nsclone")));
    let script = "mount -t tmpfs none /proc/sys && exec setpriv --reuid=65534 --regid=65534 \
                  --clear-groups \"$1\" -q --user --root \"$2\" --pid /bin/true";
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(&bin)
        .arg(rootfs.root())
        .current_dir("/")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    let message = stderr(&out);
    let proc = rootfs.root().join("proc");
    assert!(
        message.starts_with(&format!(
            "nsclone: child: mount(\"proc\", \"{}\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, \
             NULL): EPERM (Operation not permitted): ",
            proc.display()
        )),
        "{message}"
    );
    assert!(message.contains("fully visible"), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn the_library_runs_a_command_in_a_root_of_its_own() {
    let test = "the_library_runs_a_command_in_a_root_of_its_own";
    if !(privileged(test) && has_busybox(test)) {
        return;
    }
    let _host = Host::guard();
    let rootfs = Rootfs::new();
    let child = nsclone::Command::new("/bin/sh")
        .args(["-c", "echo $$ $(cat /proc/1/comm) > /tmp/seen"])
        .root(rootfs.root().as_os_str().as_encoded_bytes())
        .namespace(nsclone::namespace::Namespace::Pid)
        .spawn()
        .unwrap();
    assert_eq!(child.wait().unwrap().exit_code(), 0);
    // PID 1, and the /proc of its own PID namespace, whose PID 1 is sh
    // (the host's /proc would show the host's init).
    let seen = std::fs::read_to_string(rootfs.root().join("tmp/seen")).unwrap();
    assert_eq!(seen, "1 sh\n");
    // Refused before anything runs, as an error of the library.
    let refused = nsclone::Command::new("true")
        .root(b"/nonexistent-nsclone-root")
        .spawn()
        .unwrap_err();
    assert_eq!(refused.exit_code(), 125);
    assert!(refused.to_string().contains("ENOENT"), "{refused}");
}
