//! Every namespace type, run for real, as root and as an unprivileged user.
//!
//! Each test proves the isolation the way the article does: it runs a
//! command inside, reads what the command sees, and compares it with what
//! the host sees. Each case runs twice where the kernel allows it: as the
//! invoking user (root here and in CI), and as uid/gid 65534 through
//! `setpriv`, with `--user` added, which is how a user without privileges
//! gets every other namespace.
//!
//! Tests run in parallel threads, and other checkouts may run theirs at the
//! same time, so a host check compares only what its test could change.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::{Command, Output, Stdio};

use common::{
    Host, NOBODY, Who, can_run, clock_secs, executable_by_nobody, nsclone_as, nsclone_as_nobody,
    stderr, stdout, tempdir, who_can_run,
};

use Who::{Invoker, Nobody};

/// Run nsclone as `who` with `args`, capturing everything.
fn run_as(who: Who, args: &[&str]) -> Output {
    let (mut command, _guard) = nsclone_as(who);
    command.args(args).output().expect("nsclone runs")
}

/// Run a shell script inside, quietly; it must succeed. Returns its output.
fn sh_as(who: Who, flags: &[&str], script: &str) -> String {
    let mut args = vec!["-q"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["sh", "-c", script]);
    let out = run_as(who, &args);
    assert!(
        out.status.success(),
        "{who:?} {flags:?}: {}\n{}",
        out.status,
        stderr(&out)
    );
    stdout(&out)
}

/// The namespace links a process can have, without the `*_for_children`.
const TYPES: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// Prints `TYPE LINK` for every namespace of the shell's child (`readlink`),
/// which is in the same namespaces as the command.
const LINKS: &str = "for ns in cgroup ipc mnt net pid time user uts; do \
                     echo $ns $(readlink /proc/self/ns/$ns); done";

/// Our own namespaces: the host's.
fn host_links() -> BTreeMap<String, String> {
    TYPES
        .iter()
        .map(|ns| {
            let link = std::fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
            (ns.to_string(), link.to_string_lossy().into_owned())
        })
        .collect()
}

/// Parse [`LINKS`]'s output.
fn parse_links(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(ns, link)| (ns.to_owned(), link.to_owned()))
        .collect()
}

/// The namespace types whose links differ between the host and `inside`.
fn differing(inside: &BTreeMap<String, String>) -> Vec<String> {
    let host = host_links();
    assert_eq!(inside.len(), TYPES.len(), "{inside:?}");
    TYPES
        .iter()
        .filter(|ns| host[**ns] != inside[**ns])
        .map(|ns| ns.to_string())
        .collect()
}

/// The lines of the host's mount table for `/` and `/proc`, propagation
/// included: all a launch could change there by mistake (a proc mount that
/// leaked, `/` made private on the host).
fn root_and_proc_mounts() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| matches!(l.split(' ').nth(4), Some("/" | "/proc")))
        .map(str::to_owned)
        .collect()
}

/// Everything a launch could change on the host, taken before it and
/// compared after it.
struct Before {
    host: Host,
    mounts: Vec<String>,
}

impl Before {
    fn now() -> Before {
        Before {
            host: Host::snapshot(),
            mounts: root_and_proc_mounts(),
        }
    }

    fn assert_unchanged(&self) {
        self.host.assert_unchanged();
        assert_eq!(
            root_and_proc_mounts(),
            self.mounts,
            "the host's mounts changed"
        );
    }
}

#[test]
fn each_flag_changes_its_own_namespace_and_no_other() {
    let cases: [(&[&str], &[&str]); 10] = [
        (&["-i"], &["ipc"]),
        (&["-m"], &["mnt"]),
        (&["-n"], &["net"]),
        (&["-p"], &["pid"]),
        (&["-U"], &["user"]),
        (&["-C"], &["cgroup"]),
        (&["-T"], &["time"]),
        (&["--mount-proc"], &["mnt", "pid"]),
        (&["--monotonic", "1"], &["time"]),
        (&["--boottime", "1"], &["time"]),
    ];
    for who in who_can_run("each flag's namespace") {
        for (flags, changed) in cases {
            let before = Before::now();
            let inside = parse_links(&sh_as(who, flags, LINKS));
            let mut expected: Vec<&str> = changed.to_vec();
            expected.push("uts");
            if who == Nobody {
                expected.push("user");
            }
            expected.sort();
            expected.dedup();
            assert_eq!(differing(&inside), expected, "{who:?} {flags:?}");
            before.assert_unchanged();
        }
    }
}

#[test]
fn pid_the_command_is_pid_1() {
    for who in who_can_run("--pid") {
        assert_eq!(sh_as(who, &["-p"], "echo $$"), "1\n", "{who:?}");
    }
}

#[test]
fn pid_1_ignores_a_signal_it_has_no_handler_for() {
    // The kernel protects a namespace's init: signals with the default
    // action are dropped, even those it sends itself. Without --pid, the
    // same script dies of SIGTERM (tests/launch.rs).
    for who in who_can_run("PID 1 and SIGTERM") {
        let script = "kill -TERM $$; echo survived";
        assert_eq!(sh_as(who, &["-p"], script), "survived\n", "{who:?}");
    }
}

#[test]
fn pid_1_with_a_handler_gets_the_sigterm_nsclone_forwards() {
    use std::io::{BufRead, BufReader};
    for who in who_can_run("SIGTERM forwarded to PID 1") {
        let (mut command, _guard) = nsclone_as(who);
        let script = "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done";
        let mut child = command
            .args(["-q", "-p", "sh", "-c", script])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "ready\n");
        // setpriv execs nsclone, so the pid is nsclone's either way.
        nsclone::sys::kill(child.id() as i32, libc::SIGTERM, "the test").unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(7), "{who:?}");
    }
}

#[test]
fn mount_proc_lists_only_the_namespace_and_leaves_the_host_table() {
    for who in who_can_run("--mount-proc") {
        let before = Before::now();
        let script = "echo /proc/[0-9]*; grep ' /proc ' /proc/self/mountinfo | tail -n 1";
        let out = sh_as(who, &["--mount-proc"], script);
        let mut lines = out.lines();
        // A glob expands in the shell itself: no other process runs.
        assert_eq!(lines.next(), Some("/proc/1"), "{who:?}: {out}");
        let proc_mount = lines.next().unwrap_or_default();
        for option in ["nosuid", "nodev", "noexec"] {
            assert!(proc_mount.contains(option), "{who:?}: {proc_mount}");
        }
        before.assert_unchanged();
    }
}

/// Prints mountinfo's line for `/`.
const ROOT_MOUNT: &str = "grep -E '^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / ' /proc/self/mountinfo";

#[test]
fn mount_makes_root_private_inside_only() {
    for who in who_can_run("--mount propagation") {
        let before = Before::now();
        // A / that propagates, as on systemd hosts, whatever this host's
        // is (a private / would pass unchanged): made in a mount namespace
        // of util-linux's unshare, where a shell prints its / and then runs
        // nsclone. The host's / is not touched.
        let (nsclone, _copy) = nsclone_as(who);
        let out = Command::new("unshare")
            .args(["--mount", "--propagation", "shared", "sh", "-c"])
            .arg(format!("{ROOT_MOUNT}; echo --; exec \"$@\""))
            .arg("sh")
            .arg(nsclone.get_program())
            .args(nsclone.get_args())
            .args(["-q", "-m", "sh", "-c", ROOT_MOUNT])
            .current_dir("/")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{who:?}: {}\n{}",
            out.status,
            stderr(&out)
        );
        let text = stdout(&out);
        let (outside, inside) = text.split_once("--\n").unwrap();
        // mountinfo's optional fields: "shared:N" or "master:N" when the
        // mount propagates; nothing when it is private.
        assert!(
            outside.contains("shared:"),
            "{who:?}: / was not shared before: {text}"
        );
        assert!(
            !inside.contains("shared:") && !inside.contains("master:"),
            "{who:?}: {inside}"
        );
        before.assert_unchanged();
    }
}

/// The interfaces of a new network namespace as util-linux's unshare makes
/// one, as `who`: only `lo`, unless this kernel adds its fallback tunnel
/// devices (`sit0`, `gre0`, ...) to every new namespace, which it does when
/// their modules are loaded and `net.core.fb_tunnels_only_for_init_net` is 0.
fn interfaces_of_a_new_net_namespace(who: Who) -> Vec<String> {
    let mut command = Command::new("setpriv");
    if who == Nobody {
        command.args(NOBODY);
    }
    let unshare: &[&str] = match who {
        Invoker => &["unshare", "--net"],
        Nobody => &["unshare", "--user", "--map-root-user", "--net"],
    };
    let out = command
        .args(unshare)
        .args(["cat", "/proc/net/dev"])
        .current_dir("/")
        .output()
        .unwrap();
    assert!(out.status.success(), "unshare: {}", stderr(&out));
    stdout(&out)
        .lines()
        .skip(2)
        .filter_map(|l| Some(l.split_once(':')?.0.trim().to_owned()))
        .collect()
}

#[test]
fn net_has_only_lo_and_it_is_up() {
    for who in who_can_run("--net") {
        let before = Before::now();
        // /proc/net/dev lists the interfaces; /proc/net/fib_trie holds
        // 127.0.0.1 as a local address only once lo is up. Both are the
        // reader's network namespace's, and need no extra tool.
        let script = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; \
                      grep -c '127.0.0.1' /proc/net/fib_trie";
        let out = sh_as(who, &["-n"], script);
        let mut lines: Vec<&str> = out.lines().collect();
        let up = lines.pop().unwrap_or_default();
        // The same interfaces as any new network namespace on this kernel,
        // lo first: only lo where no fallback tunnel device is configured.
        let expected = interfaces_of_a_new_net_namespace(who);
        assert_eq!(lines.first(), Some(&"lo"), "{who:?}: {out}");
        assert_eq!(
            lines, expected,
            "{who:?}: only lo and the kernel's own: {out}"
        );
        assert_ne!(up, "0", "{who:?}: lo is down: {out}");
        before.assert_unchanged();
    }
}

/// A System V message queue made by the test, removed when dropped.
struct Queue(i32);

impl Queue {
    fn new() -> Queue {
        // SAFETY: msgget takes no pointers.
        let id = unsafe { libc::msgget(libc::IPC_PRIVATE, libc::IPC_CREAT | 0o600) };
        assert!(id >= 0, "msgget: {}", std::io::Error::last_os_error());
        Queue(id)
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: IPC_RMID reads no buffer.
        unsafe { libc::msgctl(self.0, libc::IPC_RMID, std::ptr::null_mut()) };
    }
}

/// The message queues listed in this IPC namespace, as `key id` pairs.
fn queues(table: &str) -> Vec<(String, String)> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect()
}

#[test]
fn ipc_a_queue_of_the_host_is_not_seen_and_none_leaks_out() {
    for who in who_can_run("--ipc") {
        let queue = Queue::new();
        let host = std::fs::read_to_string("/proc/sysvipc/msg").unwrap();
        assert!(
            queues(&host)
                .iter()
                .any(|(_, id)| *id == queue.0.to_string())
        );
        // Inside: an empty table; then a queue of its own, with a key.
        let script = "cat /proc/sysvipc/msg; echo --; ipcmk -Q >/dev/null; cat /proc/sysvipc/msg";
        let out = sh_as(who, &["-i"], script);
        let (first, second) = out.split_once("--\n").unwrap();
        assert_eq!(
            queues(first),
            vec![],
            "{who:?}: the host's queue is visible"
        );
        let made = queues(second);
        assert_eq!(made.len(), 1, "{who:?}: {out}");
        // Gone with its namespace: the host has no queue with that key.
        let host = std::fs::read_to_string("/proc/sysvipc/msg").unwrap();
        assert!(
            queues(&host).iter().all(|(key, _)| *key != made[0].0),
            "{who:?}: the queue made inside leaked: {host}"
        );
    }
}

#[test]
fn cgroup_the_command_sees_its_cgroup_as_the_root() {
    for who in who_can_run("--cgroup") {
        let out = sh_as(who, &["-C"], "cat /proc/self/cgroup");
        assert!(!out.is_empty());
        for line in out.lines() {
            assert!(line.ends_with(":/"), "{who:?}: not rooted at /: {line}");
        }
    }
}

#[test]
fn user_the_invoker_is_root_inside_and_owns_its_files_outside() {
    for who in who_can_run("--user") {
        let dir = tempdir();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let file = dir.path().join("made-inside");
        let script = format!(
            "id -u; id -g; cat /proc/self/uid_map /proc/self/setgroups; touch {}",
            file.display()
        );
        let out = sh_as(who, &["-U"], &script);
        let outside = match who {
            Invoker => 0,
            Nobody => 65534,
        };
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[..2], ["0", "0"], "{who:?}: {out}");
        let map: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(map, ["0", &outside.to_string(), "1"], "{who:?}: {out}");
        assert_eq!(lines[3], "deny", "{who:?}: {out}");
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (outside, outside), "{who:?}");
    }
}

/// Not a test of its own: print this process's monotonic and boot-time
/// clocks. The time tests run this test binary inside a time namespace, with
/// `--ignored --exact probe_clocks` and `NSCLONE_PROBE` set, to read them,
/// since no standard tool prints `CLOCK_MONOTONIC`.
#[test]
#[ignore = "a helper process: run by time_the_clocks_inside_are_shifted_by_the_offsets"]
fn probe_clocks() {
    assert!(
        std::env::var_os("NSCLONE_PROBE").is_some(),
        "probe_clocks is a helper process, not a test: NSCLONE_PROBE is not set"
    );
    println!(
        "clocks: {} {}",
        clock_secs(libc::CLOCK_MONOTONIC),
        clock_secs(libc::CLOCK_BOOTTIME)
    );
}

/// The clocks as a process inside a namespace made with `flags` reads them.
fn clocks_inside(who: Who, flags: &[&str]) -> (i64, i64) {
    let test = std::env::current_exe().unwrap();
    let (test, _guard) = match who {
        Invoker => (test, None),
        Nobody => executable_by_nobody(&test),
    };
    let (mut command, _guard) = nsclone_as(who);
    let out = command
        .arg("-q")
        .args(flags)
        .arg(&test)
        .args([
            "--ignored",
            "--exact",
            "probe_clocks",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("NSCLONE_PROBE", "1")
        .output()
        .unwrap();
    let text = stdout(&out);
    let line = text
        .lines()
        .find_map(|l| Some(l.split_once("clocks: ")?.1))
        .unwrap_or_else(|| panic!("{who:?}: no clocks in {text}\n{}", stderr(&out)));
    let (monotonic, boottime) = line.split_once(' ').unwrap();
    (monotonic.parse().unwrap(), boottime.parse().unwrap())
}

#[test]
fn time_the_clocks_inside_are_shifted_by_the_offsets() {
    const DAY: i64 = 86400;
    for who in who_can_run("--monotonic/--boottime") {
        let host = (
            clock_secs(libc::CLOCK_MONOTONIC),
            clock_secs(libc::CLOCK_BOOTTIME),
        );
        let flags = ["--monotonic", "86400", "--boottime", "172800"];
        let inside = clocks_inside(who, &flags);
        let after = (
            clock_secs(libc::CLOCK_MONOTONIC),
            clock_secs(libc::CLOCK_BOOTTIME),
        );
        // Shifted by the offset, give or take the time the launch took.
        assert!(
            (host.0 + DAY..=after.0 + DAY).contains(&inside.0),
            "{who:?}: monotonic {inside:?} against host {host:?}..{after:?}"
        );
        assert!(
            (host.1 + 2 * DAY..=after.1 + 2 * DAY).contains(&inside.1),
            "{who:?}: boottime {inside:?} against host {host:?}..{after:?}"
        );
        // /proc/uptime is the boot-time clock, as a shell sees it.
        let uptime = sh_as(who, &["--boottime", "172800"], "cut -d. -f1 /proc/uptime");
        let uptime: i64 = uptime.trim().parse().unwrap();
        assert!(uptime >= host.1 + 2 * DAY, "{who:?}: uptime {uptime}");
    }
}

#[test]
fn all_flags_together() {
    let flags = [
        "-i",
        "-m",
        "-n",
        "-p",
        "-U",
        "-C",
        "-T",
        "--mount-proc",
        "--monotonic",
        "100",
        "--boottime",
        "100",
    ];
    for who in who_can_run("all flags together") {
        let before = Before::now();
        let script = format!(
            "{LINKS}; echo shell-pid $$; echo uid $(id -u); echo proc /proc/[0-9]*; \
             echo lo-addresses $(grep -c 127.0.0.1 /proc/net/fib_trie); \
             echo hostname $(hostname)"
        );
        let out = sh_as(who, &flags, &script);
        let mut inside = parse_links(&out);
        let facts: BTreeMap<String, String> =
            ["shell-pid", "uid", "proc", "lo-addresses", "hostname"]
                .iter()
                .filter_map(|k| Some((k.to_string(), inside.remove(*k)?)))
                .collect();
        assert_eq!(differing(&inside), TYPES, "{who:?}: every namespace is new");
        assert_eq!(facts["shell-pid"], "1", "{who:?}: {out}");
        assert_eq!(facts["uid"], "0", "{who:?}: {out}");
        assert_eq!(facts["proc"], "/proc/1", "{who:?}: {out}");
        assert_ne!(facts["lo-addresses"], "0", "{who:?}: lo is down: {out}");
        assert_eq!(facts["hostname"], "newhostname", "{who:?}: {out}");
        before.assert_unchanged();
    }
}

/// The rows `--show-ns` marks as differing, by namespace link name.
fn marked_rows(out: &Output) -> Vec<String> {
    assert!(out.status.success(), "{}", stderr(out));
    stderr(out)
        .lines()
        // A marked row: `  * uts  uts:[...]  uts:[...]  user:[...]`.
        .filter_map(|l| l.strip_prefix("  * "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn show_ns_marks_every_new_namespace() {
    // The rows are the links the kernel has, read from /proc (not from
    // nsclone's own list), in the order `ls /proc/self/ns` shows them.
    let all_but = |row: &str| -> Vec<String> {
        let mut rows: Vec<String> = std::fs::read_dir("/proc/self/ns")
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|r| r != row)
            .collect();
        rows.sort();
        rows
    };
    // Without --user the launcher makes the time namespace before clone:
    // the child is in it from the start.
    if can_run(Invoker, "--show-ns, time made by the launcher") {
        let out = run_as(Invoker, &["--show-ns", "-impnCT", "true"]);
        assert_eq!(marked_rows(&out), all_but("user"), "{}", stderr(&out));
    }
    // With --user the child makes it after the table is printed, and
    // enters it at exec; a note says so.
    for who in who_can_run("--show-ns, time made by the child") {
        let out = run_as(who, &["--show-ns", "-impnUCT", "true"]);
        let expected: Vec<String> = all_but("time")
            .into_iter()
            .filter(|row| row != "time_for_children")
            .collect();
        assert_eq!(marked_rows(&out), expected, "{who:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("when it execs"), "{}", stderr(&out));
    }
}

#[test]
fn without_user_an_unprivileged_user_is_told_to_add_it() {
    if !can_run(Nobody, "the --user hint") {
        return;
    }
    let (mut nobody, _copy) = nsclone_as_nobody();
    let before = Before::now();
    let out = nobody.args(["-p", "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    assert!(
        err.contains("clone(CLONE_NEWUTS|CLONE_NEWPID|SIGCHLD): EPERM"),
        "{err}"
    );
    assert!(err.contains("--user"), "{err}");
    before.assert_unchanged();
}

#[test]
fn a_refused_offset_exits_125_and_changes_nothing() {
    // An offset that would make the monotonic clock negative: the kernel
    // would refuse it (ERANGE) when it is written, by the launcher as root
    // or by the child as uid 65534; nsclone refuses it first, before it
    // announces or creates anything. Either way the command never runs.
    for who in who_can_run("a refused clock offset") {
        let before = Before::now();
        let out = run_as(
            who,
            &[
                "-q",
                "-n",
                "--mount-proc",
                "--monotonic",
                "-1000000000",
                "echo",
                "ran",
            ],
        );
        assert_eq!(out.status.code(), Some(125), "{who:?}");
        assert!(out.stdout.is_empty(), "{who:?}: the command ran");
        let err = stderr(&out);
        assert!(
            err.starts_with("nsclone: --monotonic -1000000000: the monotonic clock reads ")
                && err.contains("an offset may not make it negative"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        before.assert_unchanged();
    }
}
