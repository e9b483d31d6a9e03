//! `--show-ns` tells the truth about ownership: every identity, owner,
//! parent, owner uid and pid it prints is asked of the kernel again here,
//! independently, through libc (open `/proc/PID/ns/NAME`, fstat, ioctl
//! `NS_GET_USERNS`, `NS_GET_PARENT`, `NS_GET_OWNER_UID`; the `NSpid:` line
//! of `/proc/PID/status`), while the command still runs.
//!
//! The command is `cat`, reading a pipe this test holds: nsclone prints its
//! view before the exec, then `running ... as pid N`; the test compares,
//! then closes the pipe, and `cat` and nsclone end. Each case runs as root
//! and, where it applies, as uid 65534 with `--user` (through setpriv:
//! `common::nsclone_as`).

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::sync::mpsc;

use nsclone::namespace::inspect::{Relative, Snapshot};
use nsclone::namespace::{LINKS, Namespace};
use nsclone::{Command as Launch, WaitStatus};

use common::{DEADLINE, Host, Who, can_run, nsclone_as, privileged, wait_pid_within, who_can_run};

/// nsclone, running its command `cat` on a pipe the test holds.
struct Running {
    child: Child,
    /// What nsclone printed, up to and including `running ... as pid N`.
    text: String,
    /// The launcher's pid and the command's, as this test sees them.
    launcher: i32,
    command: i32,
    _copy: Option<tempfile::TempDir>,
}

impl Running {
    /// Start nsclone as `who` with `args` and the command `cat`; wait for
    /// its `running` line (at most [`DEADLINE`]).
    fn start(who: Who, args: &[&str]) -> Running {
        let (mut command, copy) = nsclone_as(who);
        let mut child = command
            .args(args)
            .arg("cat")
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nsclone starts");
        let (lines, received) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                if lines.send(line.unwrap_or_default()).is_err() {
                    return;
                }
            }
        });
        let mut text = String::new();
        let command = loop {
            let Ok(line) = received.recv_timeout(DEADLINE) else {
                let _ = child.kill();
                panic!("no `running` line from nsclone {args:?}:\n{text}");
            };
            text.push_str(&line);
            text.push('\n');
            if let Some(pid) = line.strip_prefix("nsclone: running [\"cat\"] as pid ") {
                break pid.parse().unwrap();
            }
        };
        // setpriv execs nsclone: the launcher has setpriv's pid.
        let launcher = child.id() as i32;
        Running {
            child,
            text,
            launcher,
            command,
            _copy: copy,
        }
    }

    /// Close `cat`'s input; nsclone must then end with its status, 0.
    fn finish(mut self) {
        drop(self.child.stdin.take());
        let status = wait_pid_within(self.child.id() as i32, "nsclone cat");
        assert_eq!(status, 0, "nsclone ended with status {status:#x}");
    }
}

/// The identity of a namespace as `/proc/PID/ns` names it, for comparing
/// with what nsclone printed: `uts:[4026532180]`.
fn shown(kind: &str, file: &File) -> String {
    format!("{kind}:[{}]", file.metadata().unwrap().ino())
}

/// ioctl_ns(2) `request` on `file`, through libc: the namespace it gives,
/// or the errno.
fn relative(file: &File, request: libc::c_ulong) -> Result<File, i32> {
    // SAFETY: NS_GET_USERNS and NS_GET_PARENT take no argument and return
    // a new descriptor, which the File takes over.
    let fd = unsafe { libc::ioctl(file.as_raw_fd(), request) };
    match fd {
        -1 => Err(std::io::Error::last_os_error().raw_os_error().unwrap()),
        // SAFETY: a descriptor the kernel just opened for us.
        fd => Ok(unsafe { File::from_raw_fd(fd) }),
    }
}

/// ioctl_ns(2) `NS_GET_OWNER_UID` on a user namespace, through libc.
fn owner_uid(file: &File) -> u32 {
    let mut uid: libc::uid_t = 0;
    // SAFETY: the kernel writes one uid_t.
    let ret = unsafe { libc::ioctl(file.as_raw_fd(), libc::NS_GET_OWNER_UID, &mut uid) };
    assert_eq!(ret, 0, "{}", std::io::Error::last_os_error());
    uid
}

/// `/proc/PID/ns/NAME`, opened.
fn ns(pid: i32, name: &str) -> File {
    File::open(format!("/proc/{pid}/ns/{name}")).unwrap()
}

/// The `NSpid:` line of `/proc/PID/status`.
fn nspid(pid: i32) -> Vec<i32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:"));
    let pids = line.unwrap().split_whitespace();
    pids.map(|pid| pid.parse().unwrap()).collect()
}

/// The table's rows: link name to its launcher, child and owner cells.
fn rows(text: &str) -> BTreeMap<&str, [String; 3]> {
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let row = line
            .strip_prefix("  * ")
            .or_else(|| line.strip_prefix("    "));
        let mut words = row.unwrap_or("").split_whitespace();
        let Some(name) = words.next().filter(|n| LINKS.contains(n)) else {
            continue;
        };
        let (launcher, child) = (words.next().unwrap(), words.next().unwrap());
        let owner = words.collect::<Vec<_>>().join(" ");
        rows.insert(name, [launcher.to_string(), child.to_string(), owner]);
    }
    assert_eq!(rows.len(), LINKS.len(), "{text}");
    rows
}

/// The note line of the table about namespace `name` (`pid:[...]`).
fn note<'a>(text: &'a str, name: &str) -> &'a str {
    let prefix = format!("    {name} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no note on {name} in:\n{text}"))
        .trim_start()
}

/// Check every cell of the table against the kernel: each link's
/// namespace for both processes, the owner NS_GET_USERNS gives for the
/// child's (none for the initial user namespace: EPERM), and a `*` on
/// exactly the rows whose namespaces differ.
fn assert_cells_are_the_kernels(run: &Running) {
    let text = &run.text;
    let rows = rows(text);
    for name in LINKS {
        let kind = name.split("_for_").next().unwrap();
        let [l, c, owner] = &rows[name];
        assert_eq!(*l, shown(kind, &ns(run.launcher, name)), "{name}: {text}");
        assert_eq!(*c, shown(kind, &ns(run.command, name)), "{name}: {text}");
        let expected = match relative(&ns(run.command, name), libc::NS_GET_USERNS) {
            Ok(user) => shown("user", &user),
            Err(libc::EPERM) if kind == "user" => "none: the initial one".to_string(),
            Err(errno) => panic!("{name}: NS_GET_USERNS: errno {errno}"),
        };
        assert_eq!(*owner, expected, "{name}: {text}");
        let marked = text
            .lines()
            .any(|line| line.starts_with(&format!("  * {name} ")));
        assert_eq!(marked, l != c, "{name}: {text}");
    }
}

#[test]
fn every_cell_is_the_kernels_whatever_the_namespaces() {
    let cases: [(Who, &[&str]); 6] = [
        (Who::Invoker, &[]),
        (Who::Invoker, &["-p"]),
        (Who::Invoker, &["-imnC"]),
        (Who::Invoker, &["-U"]),
        (Who::Nobody, &[]),
        (Who::Nobody, &["-impnC"]),
    ];
    for (who, flags) in cases {
        if !can_run(who, &format!("--show-ns {flags:?} against ioctl_ns")) {
            continue;
        }
        let _host = Host::guard();
        let mut args = vec!["--show-ns"];
        args.extend_from_slice(flags);
        let run = Running::start(who, &args);
        assert_cells_are_the_kernels(&run);
        run.finish();
    }
}

#[test]
fn the_table_with_user_and_pid_tells_what_the_kernel_tells() {
    for who in who_can_run("--show-ns -U -p against ioctl_ns") {
        let _host = Host::guard();
        let run = Running::start(who, &["--show-ns", "-U", "-p"]);
        let text = &run.text;
        let rows = rows(text);
        let (launcher, command) = (run.launcher, run.command);

        // Each cell is the namespace the kernel gives for that link, and
        // the owner cell the user namespace NS_GET_USERNS gives for the
        // child's.
        assert_cells_are_the_kernels(&run);
        let host_user = shown("user", &ns(launcher, "user"));
        let new_user = shown("user", &ns(command, "user"));
        assert_ne!(host_user, new_user);
        for name in LINKS {
            // The new user namespace owns the namespaces created with it,
            // and its parent, the host's, owns the others (and it).
            let [l, c, owner] = &rows[name];
            let created_with_it = matches!(name, "pid" | "pid_for_children" | "uts");
            let expected = if created_with_it {
                &new_user
            } else {
                &host_user
            };
            assert_eq!(owner, expected, "{name}: {text}");
            assert_eq!(l != c, created_with_it || name == "user", "{name}: {text}");
        }

        // The new PID namespace's parent is the host's, ours.
        let new_pid = ns(command, "pid");
        let parent = relative(&new_pid, libc::NS_GET_PARENT).unwrap();
        let host_pid = shown("pid", &File::open("/proc/self/ns/pid").unwrap());
        assert_eq!(shown("pid", &parent), host_pid);
        let about_new = note(text, &shown("pid", &new_pid));
        assert!(
            about_new.starts_with(&format!("parent {host_pid}; ")),
            "{text}"
        );
        // The user namespaces: the host's has no parent for us, the new
        // one's parent is the host's; who created it, in our numbers.
        let new_user_ns = ns(command, "user");
        let parent = relative(&new_user_ns, libc::NS_GET_PARENT).unwrap();
        assert_eq!(shown("user", &parent), host_user);
        assert_eq!(
            relative(&parent, libc::NS_GET_PARENT).unwrap_err(),
            libc::EPERM
        );
        let uid = owner_uid(&new_user_ns);
        assert_eq!(uid, if who == Who::Invoker { 0 } else { 65534 });
        assert_eq!(
            note(text, &new_user),
            format!("parent {host_user}; owner uid {uid}"),
            "{text}"
        );
        assert!(
            note(text, &host_user).starts_with("the initial user namespace"),
            "{text}"
        );

        // NSpid: two pids, the one we see and 1; the table names both.
        assert_eq!(nspid(command), [command, 1]);
        assert!(
            about_new.ends_with("; the command is pid 1 there"),
            "{text}"
        );
        assert!(
            note(text, &host_pid).ends_with(&format!("; the command is pid {command} there")),
            "{text}"
        );
        assert!(
            text.contains(
                "nsclone: the child's new user namespace owns its new pid and uts namespaces: \
                 the command, root there, may change them, and none of the 5 it shares\n"
            ),
            "{text}"
        );
        run.finish();
    }
}

/// One line of the tree: its `*`, its depth, the namespace, who is in it.
#[derive(Debug)]
struct Node {
    new: bool,
    depth: usize,
    name: String,
    who: String,
}

/// The tree's lines, between its title and its key.
fn nodes(text: &str) -> Vec<Node> {
    let title = text
        .lines()
        .position(|l| l.contains(", by owner:"))
        .unwrap_or_else(|| panic!("no tree in:\n{text}"));
    text.lines()
        .skip(title + 1)
        .take_while(|l| !l.starts_with("    * the child's new"))
        .map(|line| {
            let drawing: String = line[4..]
                .chars()
                .take_while(|c| "│├└─ ".contains(*c))
                .collect();
            let rest = &line[4 + drawing.len()..];
            let mut words = rest.split_whitespace();
            Node {
                new: line.starts_with("  * "),
                depth: drawing.chars().count() / 2,
                name: words.next().unwrap().to_string(),
                who: words.next().unwrap_or("").to_string(),
            }
        })
        .collect()
}

/// The tree's shape: each line's `*`, depth and namespace type.
fn shape(nodes: &[Node]) -> Vec<(bool, usize, &str)> {
    nodes
        .iter()
        .map(|n| (n.new, n.depth, n.name.split(':').next().unwrap()))
        .collect()
}

/// The line each line hangs under: the nearest line above it one level up.
fn parent_of(nodes: &[Node], at: usize) -> Option<&Node> {
    let depth = nodes[at].depth.checked_sub(1)?;
    nodes[..at].iter().rev().find(|n| n.depth == depth)
}

/// What libc's ioctls say of each link of `pid`: its identity, its
/// owner's and its parent's (or the errno).
type Kernel = BTreeMap<&'static str, (String, Result<String, i32>, Result<String, i32>)>;

fn ask_the_kernel(pid: i32) -> Kernel {
    LINKS
        .iter()
        .map(|&name| {
            let kind = name.split("_for_").next().unwrap();
            let file = ns(pid, name);
            let owner = relative(&file, libc::NS_GET_USERNS).map(|f| shown("user", &f));
            let parent = relative(&file, libc::NS_GET_PARENT).map(|f| shown(kind, &f));
            (name, (shown(kind, &file), owner, parent))
        })
        .collect()
}

/// Check that each line of the tree hangs where the kernel's relations
/// say: under its owner, or, for a PID namespace whose parent has the
/// same owner, under that parent. The relations are asked here of every
/// namespace of both processes.
fn assert_drawn_as_the_kernel_relates(nodes: &[Node], pids: [i32; 2], text: &str) {
    let kernel: BTreeMap<String, (Option<String>, Option<String>)> = pids
        .into_iter()
        .flat_map(ask_the_kernel)
        .map(|(_, (identity, owner, parent))| (identity, (owner.ok(), parent.ok())))
        .collect();
    for (at, node) in nodes.iter().enumerate() {
        let Some((owner, parent)) = kernel.get(&node.name) else {
            continue;
        };
        let drawn_under = parent_of(nodes, at).map(|n| n.name.clone());
        let same_owner = |p: &String| kernel.get(p).is_some_and(|(o, _)| o == owner);
        let expected = match parent {
            Some(p) if node.name.starts_with("pid:") && same_owner(p) => Some(p.clone()),
            _ => owner.clone(),
        };
        assert_eq!(drawn_under, expected, "{}:\n{text}", node.name);
    }
}

#[test]
fn the_tree_hangs_each_namespace_under_its_owner() {
    // With --user (root and uid 65534): the new user namespace hangs under
    // the host's, and the new PID and UTS namespaces under it.
    for who in who_can_run("--show-ns=tree -U -p") {
        let _host = Host::guard();
        let run = Running::start(who, &["--show-ns=tree", "-U", "-p"]);
        let nodes = nodes(&run.text);
        assert_drawn_as_the_kernel_relates(&nodes, [run.launcher, run.command], &run.text);
        let shape: Vec<(bool, usize, &str, &str)> = nodes
            .iter()
            .map(|n| {
                let kind = n.name.split(':').next().unwrap();
                (n.new, n.depth, kind, n.who.as_str())
            })
            .collect();
        let expected = [
            (false, 0, "user", "launcher"),
            (false, 1, "cgroup", "both"),
            (false, 1, "ipc", "both"),
            (false, 1, "mnt", "both"),
            (false, 1, "net", "both"),
            (false, 1, "pid", "launcher"),
            (false, 1, "time", "both"),
            (false, 1, "uts", "launcher"),
            (true, 1, "user", "child"),
            (true, 2, "pid", "child"),
            (true, 2, "uts", "child"),
        ];
        assert_eq!(shape, expected, "{who:?}:\n{}", run.text);
        run.finish();
    }
    // Without it (root only): everything belongs to the host's user
    // namespace, and the new PID namespace hangs under its parent.
    if can_run(Who::Invoker, "--show-ns=tree -p") {
        let _host = Host::guard();
        let run = Running::start(Who::Invoker, &["--show-ns=tree", "-p"]);
        let nodes = nodes(&run.text);
        assert_drawn_as_the_kernel_relates(&nodes, [run.launcher, run.command], &run.text);
        let expected = [
            (false, 0, "user"),
            (false, 1, "cgroup"),
            (false, 1, "ipc"),
            (false, 1, "mnt"),
            (false, 1, "net"),
            (false, 1, "pid"),
            (true, 2, "pid"),
            (false, 1, "time"),
            (false, 1, "uts"),
            (true, 1, "uts"),
        ];
        assert_eq!(shape(&nodes), expected, "{}", run.text);
        run.finish();
    }
}

#[test]
fn nested_the_launchers_parents_are_hidden() {
    // nsclone inside nsclone -U -p: the inner launcher's user namespace is
    // not the initial one, and its parent is out of its view (EPERM), as
    // is the owner of what it shares with the host. With --mount-proc the
    // inner /proc is of the inner launcher's PID namespace; without it,
    // the host's, where the inner launcher must find itself at
    // /proc/self and its child through a pidfd.
    if !can_run(Who::Invoker, "nested --show-ns=tree") {
        return;
    }
    let _host = Host::guard();
    let inner = env!("CARGO_BIN_EXE_nsclone");
    for outer in [&["-U", "-p", "--mount-proc"][..], &["-U", "-p"]] {
        let mut args = vec!["-q"];
        args.extend_from_slice(outer);
        args.extend([inner, "--show-ns=tree", "-p"]);
        let run = Running::start(Who::Invoker, &args);
        let text = &run.text;
        let nodes = nodes(text);
        let expected = [
            (false, 0, "user"),
            (false, 1, "cgroup"),
            (false, 1, "ipc"),
            (false, 1, "mnt"),
            (false, 1, "net"),
            (false, 1, "time"),
            (false, 1, "user"),
            (false, 2, "pid"),
            (true, 3, "pid"),
            (false, 2, "uts"),
            (true, 2, "uts"),
        ];
        let expected = match outer.contains(&"--mount-proc") {
            // The outer mount namespace is new, owned by its user namespace.
            true => {
                let mut e = expected.to_vec();
                let mnt = e.remove(3);
                e.insert(6, (mnt.0, 2, mnt.2));
                e
            }
            false => expected.to_vec(),
        };
        assert_eq!(shape(&nodes), expected, "{outer:?}:\n{text}");
        let root = text.lines().find(|l| l.starts_with("    user:[")).unwrap();
        assert!(
            root.starts_with("    user:[?]") && root.ends_with("(EPERM)"),
            "{text}"
        );
        assert!(
            text.contains("the namespaces of the launcher (pid 1) and the child (pid 2)"),
            "{text}"
        );
        let pids: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("pid:["))
            .map(|l| &l[l.find("the command is").unwrap()..])
            .collect();
        assert_eq!(
            pids,
            ["the command is pid 2 here", "the command is pid 1 here"],
            "{outer:?}:\n{text}"
        );
        run.finish();
    }
}

#[test]
fn the_library_snapshot_is_what_the_kernel_says() {
    // The data under the views, from the library: a child held in new user
    // and PID namespaces, and the caller, each compared with libc's
    // answers, asked while the child is held.
    if !privileged("Snapshot::of_self_and") {
        return;
    }
    let _host = Host::guard();
    let mut command = Launch::new("true");
    command.namespace(Namespace::User).namespace(Namespace::Pid);
    let mut seen = None;
    let child = command
        .spawn_with(|pid| {
            let snapshot = Snapshot::of_self_and(&[pid]);
            let me = std::process::id() as i32;
            seen = Some((
                pid,
                snapshot,
                [ask_the_kernel(me), ask_the_kernel(pid)],
                nspid(pid),
            ));
        })
        .unwrap();
    assert_eq!(child.wait().unwrap(), WaitStatus::Exited(0));
    let (pid, snapshot, kernel, child_nspid) = seen.unwrap();
    assert_eq!(snapshot.processes[0].pid, std::process::id() as i32);
    assert_eq!(snapshot.processes[1].pid, pid);
    assert_eq!(snapshot.processes[1].nspid, Ok(child_nspid.clone()));
    assert_eq!(child_nspid, [pid, 1]);
    let name = |id| {
        let info = snapshot.get(id).unwrap();
        format!("{}:[{}]", info.kind.name(), id.ino)
    };
    let named = |relative: Relative| match relative {
        Relative::Known(id) => Ok(name(id)),
        Relative::Hidden => Err(libc::EPERM),
        Relative::Unknown(errno) => Err(errno.into_raw()),
    };
    for (process, kernel) in snapshot.processes.iter().zip(&kernel) {
        for (link, id) in &process.links {
            let info = snapshot.get(id.unwrap()).unwrap();
            let (identity, owner, parent) = &kernel[link];
            assert_eq!(name(info.id), *identity, "{link}");
            assert_eq!(named(info.owner), *owner, "{link}");
            // Asked of PID and user namespaces only; the others, EINVAL.
            let ours = info.parent.map_or(Err(libc::EINVAL), named);
            assert_eq!(ours, *parent, "{link}");
        }
    }
    // The new user namespace owns the new PID namespace, whose parent is
    // ours; root created it; ours is the initial one.
    let child_user = snapshot.processes[1].link("user").unwrap();
    let host_user = snapshot.processes[0].link("user").unwrap();
    let host_pid = snapshot.processes[0].link("pid").unwrap();
    let new_pid = snapshot
        .get(snapshot.processes[1].link("pid").unwrap())
        .unwrap();
    assert_eq!(new_pid.owner, Relative::Known(child_user));
    assert_eq!(new_pid.parent, Some(Relative::Known(host_pid)));
    let user = snapshot.get(child_user).unwrap();
    assert_eq!(user.owner, Relative::Known(host_user));
    assert_eq!(user.owner_uid, Some(0));
    assert!(snapshot.get(host_user).unwrap().is_initial());
}
