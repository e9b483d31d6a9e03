//! `--show-ns`: the namespaces of the launcher and of the child, and who
//! owns each, so that the isolation is visible rather than claimed.
//!
//! Both views draw one [`Snapshot`] of the two processes, taken while the
//! child waits, in its new namespaces, before exec:
//!
//! - [`table`] (`--show-ns`): one row per link of `/proc/PID/ns/`
//!   (namespaces(7)) with both processes' namespaces side by side, the rows
//!   that differ marked with `*`, and the user namespace that owns the
//!   child's; then what ioctl_ns(2) says of each user and PID namespace;
//! - [`tree`] (`--show-ns=tree`): the same namespaces as a hierarchy, the
//!   way `lsns --tree=owner` draws the whole system: each namespace under
//!   the user namespace that owns it, user namespaces under their parents,
//!   and a PID namespace under its parent PID namespace when both have the
//!   same owner (otherwise under its owner, its parent named beside it).
//!   So the nearest user namespace above any line is always its owner.
//!
//! Ownership is what decides permissions: changing a namespace takes a
//! capability in the user namespace that owns it. A command in a new user
//! namespace is root there, with every capability, and has none in the
//! namespaces that belong to the user namespace above it; both views end
//! with that consequence for the command at hand.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write;

use crate::namespace::inspect::{NsInfo, Process, Relative, Snapshot};
use crate::namespace::{LINKS, Namespace, Namespaces, NsId};
use crate::strace::Dev;
use crate::sys::Pid;

/// `--show-ns`: the table of the caller, the launcher, and its child
/// `child`, whose namespaces of the types `joined` were joined, not made.
pub fn table(child: Pid, joined: Namespaces) -> String {
    View::new(&Snapshot::of_self_and(&[child]), joined).table()
}

/// `--show-ns=tree`: the tree of the caller, the launcher, and its child
/// `child`, whose namespaces of the types `joined` were joined.
pub fn tree(child: Pid, joined: Namespaces) -> String {
    View::new(&Snapshot::of_self_and(&[child]), joined).tree()
}

/// The table of a snapshot of the launcher and the child (in that order).
/// Every line ends with a newline; none has trailing blanks.
///
/// ```text
/// nsclone: /proc/PID/ns of the launcher (pid 4711) and the child (pid 4712), and owners:
///     namespace          launcher             child                owner
///     cgroup             cgroup:[4026531835]  cgroup:[4026531835]  user:[4026531837]
///     ...
///   * user               user:[4026531837]    user:[4026532181]    user:[4026531837]
///   * uts                uts:[4026532178]     uts:[4026532180]     user:[4026532181]
///     user:[4026531837]  the initial user namespace; owner uid 0
///     user:[4026532181]  parent user:[4026531837]; owner uid 0
///     ...
/// nsclone: the child has its own user and uts namespaces and shares the other 7
/// nsclone: ...
/// ```
pub fn table_of(snapshot: &Snapshot) -> String {
    View::new(snapshot, Namespaces::EMPTY).table()
}

impl View<'_> {
    fn table(&self) -> String {
        let view = self;
        let snapshot = self.snapshot;
        let (launcher, child) = (view.launcher, view.child);
        let cell = |process: &Process, name: &str| -> String {
            match process.links.iter().find(|(link, _)| *link == name) {
                Some((_, Ok(id))) => view.name(*id),
                Some((_, Err(errno))) => format!("({})", errno.name().unwrap_or("?")),
                None => String::new(),
            }
        };
        let rows: Vec<(&str, String, String, String)> = LINKS
            .iter()
            .map(|&name| {
                let owner = match child.link(name).and_then(|id| snapshot.get(id)) {
                    Some(ns) if ns.kind == Namespace::User && ns.is_initial() => {
                        "none: the initial one".to_string()
                    }
                    Some(ns) => view.relative(ns.owner),
                    None => String::new(),
                };
                (name, cell(launcher, name), cell(child, name), owner)
            })
            .collect();
        let name_w = LINKS.iter().map(|n| n.len()).max().unwrap_or(0);
        let link_w = rows
            .iter()
            .map(|(_, p, c, _)| p.len().max(c.len()))
            .max()
            .unwrap_or(0);
        let mut out = format!(
            "nsclone: /proc/PID/ns of the launcher (pid {}) and the child (pid {}), and owners:\n",
            launcher.pid, child.pid
        );
        let _ = writeln!(
            out,
            "    {:<name_w$}  {:<link_w$}  {:<link_w$}  owner",
            "namespace", "launcher", "child"
        );
        for (name, p, c, owner) in &rows {
            let mark = if p == c { ' ' } else { '*' };
            let line = format!("  {mark} {name:<name_w$}  {p:<link_w$}  {c:<link_w$}  {owner}");
            let _ = writeln!(out, "{}", line.trim_end());
        }
        // What the rows cannot hold: the hierarchies, the owners' uids, the
        // command's pids, and the device of the identities.
        let notes: Vec<(String, String)> = [Namespace::User, Namespace::Pid]
            .iter()
            .flat_map(|&kind| view.in_both().filter(move |ns| ns.kind == kind))
            .map(|ns| (view.name(ns.id), view.about(ns, true)))
            .collect();
        let note_w = notes.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (name, about) in &notes {
            let _ = writeln!(out, "    {name:<note_w$}  {about}");
        }
        let _ = writeln!(out, "    {}", view.devices());
        view.summary(&mut out);
        out
    }
}

/// The tree of a snapshot of the launcher and the child (in that order).
/// Every line ends with a newline; none has trailing blanks.
///
/// ```text
/// nsclone: the namespaces of the launcher (pid 4711) and the child (pid 4712), by owner:
///     user:[4026531837]        both      the initial user namespace; owner uid 0
///     ├─cgroup:[4026531835]    both
///     ...
///     ├─uts:[4026532178]       launcher
///   * └─user:[4026532181]      child     owner uid 0
///   *   ├─pid:[4026532183]     child     parent pid:[4026531836]; the command is pid 1 here
///   *   └─uts:[4026532180]     child
/// nsclone: ...
/// ```
pub fn tree_of(snapshot: &Snapshot) -> String {
    View::new(snapshot, Namespaces::EMPTY).tree()
}

impl View<'_> {
    fn tree(&self) -> String {
        let view = self;
        // Each line: its mark, the drawing and the namespace, who is in it,
        // and what else is known.
        let mut lines: Vec<(char, String, &str, String)> = Vec::new();
        for root in view.roots() {
            let (head, about) = match root {
                Root::Namespace(ns) => (view.name(ns.id), view.about(ns, false)),
                Root::Beyond(relative) => (
                    String::from("user:[?]"),
                    format!("the owner of those below: {}", view.relative(relative)),
                ),
            };
            let mark = match root {
                Root::Namespace(ns) if view.is_new(ns.id) => '*',
                _ => ' ',
            };
            let who = match root {
                Root::Namespace(ns) => view.who(ns.id),
                Root::Beyond(_) => "",
            };
            lines.push((mark, head, who, about));
            let children = match root {
                Root::Namespace(ns) => view.children(ns),
                Root::Beyond(relative) => view.beyond(relative),
            };
            view.draw(&children, "", &mut lines);
        }
        let head_w = lines
            .iter()
            .map(|(_, h, _, _)| h.chars().count())
            .max()
            .unwrap_or(0);
        let who_w = lines.iter().map(|(_, _, w, _)| w.len()).max().unwrap_or(0);
        let mut out = format!(
            "nsclone: the namespaces of the launcher (pid {}) and the child (pid {}), by owner:\n",
            view.launcher.pid, view.child.pid
        );
        for (mark, head, who, about) in &lines {
            let pad = head_w - head.chars().count();
            let line = format!("  {mark} {head}{:pad$}  {who:<who_w$}  {about}", "");
            let _ = writeln!(out, "{}", line.trim_end());
        }
        let marked = match view.joined.is_empty() {
            true => "new",
            false => "new or joined",
        };
        let _ = writeln!(
            out,
            "    * the child's {marked} namespaces; each hangs under the user namespace that owns \
             it,\n      a PID namespace under its parent PID namespace if both have the same owner"
        );
        let _ = writeln!(out, "    {}", view.devices());
        view.summary(&mut out);
        out
    }
}

/// A top line of the tree.
#[derive(Clone, Copy)]
enum Root<'a> {
    /// A user namespace whose owner is not known: the initial one, or one
    /// whose parent is out of the launcher's view.
    Namespace(&'a NsInfo),
    /// The owner the kernel would not name (`EPERM`), of the namespaces
    /// below it.
    Beyond(Relative),
}

/// A snapshot of the launcher and the child, and what the views ask of it.
struct View<'a> {
    snapshot: &'a Snapshot,
    launcher: &'a Process,
    child: &'a Process,
    /// The types whose namespace the child was given by joining.
    joined: Namespaces,
}

impl<'a> View<'a> {
    fn new(snapshot: &'a Snapshot, joined: Namespaces) -> View<'a> {
        View {
            snapshot,
            launcher: &snapshot.processes[0],
            child: &snapshot.processes[1],
            joined,
        }
    }

    /// `uts:[4026532180]`, as `/proc/PID/ns` names it.
    fn name(&self, id: NsId) -> String {
        let kind = self.snapshot.get(id).map_or("?", |ns| ns.kind.name());
        format!("{kind}:[{}]", id.ino)
    }

    /// An owner or a parent, named.
    fn relative(&self, relative: Relative) -> String {
        match relative {
            Relative::Known(id) => self.name(id),
            Relative::Hidden => "hidden from the launcher (EPERM)".to_string(),
            Relative::Unknown(errno) => format!("unknown ({})", errno.name().unwrap_or("?")),
        }
    }

    /// Whether the child is in namespace `id` and the launcher is not.
    fn is_new(&self, id: NsId) -> bool {
        self.child.is_in(id) && !self.launcher.is_in(id)
    }

    /// Who is in namespace `id`: `both`, `launcher`, `child`, or nobody
    /// (an owner or parent the two only lead to).
    fn who(&self, id: NsId) -> &'static str {
        match (self.launcher.is_in(id), self.child.is_in(id)) {
            (true, true) => "both",
            (true, false) => "launcher",
            (false, true) => "child",
            (false, false) => "",
        }
    }

    /// The namespaces that the launcher or the child is in, in the order
    /// met.
    fn in_both(&self) -> impl Iterator<Item = &'a NsInfo> + '_ {
        self.snapshot
            .namespaces
            .iter()
            .filter(|ns| self.launcher.is_in(ns.id) || self.child.is_in(ns.id))
    }

    /// What is known of a namespace beyond its owner: for a user
    /// namespace, whether it is the initial one or its parent, and its
    /// owner's uid; for a PID namespace, the same, and the command's pid in
    /// it. `with_parent`: name the parent even where the tree draws it.
    fn about(&self, ns: &NsInfo, with_parent: bool) -> String {
        let mut parts: Vec<String> = Vec::new();
        if ns.is_initial() {
            let kind = if ns.kind == Namespace::User {
                "user"
            } else {
                "PID"
            };
            parts.push(format!("the initial {kind} namespace"));
        } else if let Some(parent) = ns.parent {
            let drawn = ns.kind == Namespace::User || self.under_parent(ns).is_some();
            if with_parent || !drawn {
                parts.push(format!("parent {}", self.relative(parent)));
            }
        }
        if let Some(uid) = ns.owner_uid {
            parts.push(format!("owner uid {uid}"));
        }
        if let Some(pid) = self.command_pid(ns.id) {
            let place = if with_parent { "there" } else { "here" };
            parts.push(format!("the command is pid {pid} {place}"));
        }
        parts.join("; ")
    }

    /// The command's pid in PID namespace `id`: the child's `NSpid` ends
    /// with its pid in its own PID namespace, and each number before it is
    /// its pid in the parent of the namespace of the number after it.
    fn command_pid(&self, id: NsId) -> Option<Pid> {
        let nspid = self.child.nspid.as_ref().ok()?;
        let mut ns = self.child.link("pid");
        for &pid in nspid.iter().rev() {
            let here = ns?;
            if here == id {
                return Some(pid);
            }
            ns = self.snapshot.get(here)?.parent?.known();
        }
        None
    }

    /// The devices of the namespaces' identities.
    fn devices(&self) -> String {
        let mut devs: Vec<u64> = self.in_both().map(|ns| ns.id.dev).collect();
        devs.sort_unstable();
        devs.dedup();
        let shown: Vec<String> = devs
            .iter()
            .map(|&dev| format!("{}:{}", Dev(dev).major(), Dev(dev).minor()))
            .collect();
        format!(
            "a namespace is its device and inode: all of these are on device {} (nsfs)",
            shown.join(", ")
        )
    }

    /// The PID namespace a PID namespace is drawn under: its parent, when
    /// that has the same owner.
    fn under_parent(&self, ns: &NsInfo) -> Option<&'a NsInfo> {
        if ns.kind != Namespace::Pid {
            return None;
        }
        let parent = self.snapshot.get(ns.parent?.known()?)?;
        (parent.owner == ns.owner).then_some(parent)
    }

    /// The top lines: user namespaces with no known owner, and an owner
    /// the kernel would not name, for each such answer.
    fn roots(&self) -> Vec<Root<'a>> {
        let mut roots = Vec::new();
        for ns in &self.snapshot.namespaces {
            if ns.owner.known().is_some() {
                continue;
            }
            if ns.is_initial() {
                roots.push(Root::Namespace(ns));
            } else if !roots
                .iter()
                .any(|r| matches!(r, Root::Beyond(o) if *o == ns.owner))
            {
                roots.push(Root::Beyond(ns.owner));
            }
        }
        roots
    }

    /// The lines under `ns`, in order.
    fn children(&self, ns: &NsInfo) -> Vec<&'a NsInfo> {
        let below = |n: &&NsInfo| match self.under_parent(n) {
            Some(parent) => parent.id == ns.id,
            None => n.owner == Relative::Known(ns.id) && n.id != ns.id,
        };
        self.sorted(self.snapshot.namespaces.iter().filter(below).collect())
    }

    /// The lines under an owner the kernel would not name.
    fn beyond(&self, owner: Relative) -> Vec<&'a NsInfo> {
        let below =
            |n: &&NsInfo| n.owner == owner && !n.is_initial() && self.under_parent(n).is_none();
        self.sorted(self.snapshot.namespaces.iter().filter(below).collect())
    }

    /// In the order of `/proc/PID/ns`, the launcher's before the child's,
    /// and user namespaces last, so that their subtrees end the list.
    fn sorted(&self, mut list: Vec<&'a NsInfo>) -> Vec<&'a NsInfo> {
        // Namespace's order is the order of /proc/PID/ns (Namespace::ALL).
        list.sort_by_key(|ns| {
            let user = ns.kind == Namespace::User;
            (user, ns.kind, !self.launcher.is_in(ns.id), ns.id)
        });
        list
    }

    /// Draw `list` and, under each, its own, after the drawing `indent`.
    fn draw(
        &self,
        list: &[&'a NsInfo],
        indent: &str,
        lines: &mut Vec<(char, String, &str, String)>,
    ) {
        for (i, ns) in list.iter().enumerate() {
            let last = i + 1 == list.len();
            let (branch, more) = if last {
                ("└─", "  ")
            } else {
                ("├─", "│ ")
            };
            let mark = if self.is_new(ns.id) { '*' } else { ' ' };
            lines.push((
                mark,
                format!("{indent}{branch}{}", self.name(ns.id)),
                self.who(ns.id),
                self.about(ns, false),
            ));
            let children = self.children(ns);
            self.draw(&children, &format!("{indent}{more}"), lines);
        }
    }

    /// The last lines: which namespaces are the child's own, and what
    /// their owner lets the command do.
    fn summary(&self, out: &mut String) {
        let differ: Vec<&str> = LINKS
            .iter()
            .copied()
            .filter(|&name| !name.ends_with("_for_children"))
            .filter(|&name| self.child.link(name) != self.launcher.link(name))
            .collect();
        let joined = |name: &str| self.joined.iter().any(|ns| ns.name() == name);
        let (entered, own): (Vec<&str>, Vec<&str>) = differ.iter().partition(|&&n| joined(n));
        let shares = match Namespace::ALL.len() - differ.len() {
            0 => "none".to_string(),
            1 => "the other one".to_string(),
            n => format!("the other {n}"),
        };
        let summary = match (own.as_slice(), entered.as_slice()) {
            ([], []) => "the child shares every namespace with the launcher".to_string(),
            ([one], []) => format!("the child has its own {one} namespace and shares {shares}"),
            (many, []) => format!(
                "the child has its own {} namespaces and shares {shares}",
                and_list(many)
            ),
            ([], joined) => format!(
                "the child is in the joined {} and shares {shares}",
                kinds(joined)
            ),
            (own, joined) => format!(
                "the child has its own {}, is in the joined {} and shares {shares}",
                kinds(own),
                kinds(joined)
            ),
        };
        let _ = writeln!(out, "nsclone: {summary}");
        if let Some(line) = self.permissions(&own) {
            let _ = writeln!(out, "nsclone: {line}");
        }
    }

    /// What the owners of the child's namespaces mean for the command.
    fn permissions(&self, own: &[&str]) -> Option<String> {
        let user = self.child.link("user")?;
        let owned_by = |owner: NsId| -> Vec<&str> {
            own.iter()
                .copied()
                .filter(|&name| name != "user")
                .filter(|&name| {
                    let ns = self.child.link(name).and_then(|id| self.snapshot.get(id));
                    ns.is_some_and(|ns| ns.owner == Relative::Known(owner))
                })
                .collect()
        };
        let owned = owned_by(user);
        let (these, them) = match owned.len() {
            1 => ("namespace", "it"),
            _ => ("namespaces", "them"),
        };
        if Some(user) != self.launcher.link("user") {
            let not_shared = match Namespace::ALL.len() - own.len() {
                0 => String::new(),
                1 => ", and not the one it shares".to_string(),
                n => format!(", and none of the {n} it shares"),
            };
            return Some(format!(
                "the child's new user namespace owns its new {} {these}: the command, root there, \
                 may change {them}{not_shared}",
                and_list(&owned)
            ));
        }
        (!owned.is_empty()).then(|| {
            format!(
                "the launcher's user namespace owns its new {} {these} too: without a user \
                 namespace of its own, the command keeps the launcher's credentials over {them}",
                and_list(&owned)
            )
        })
    }
}

/// `uts namespace`, `pid and uts namespaces`.
fn kinds(names: &[&str]) -> String {
    match names {
        [one] => format!("{one} namespace"),
        many => format!("{} namespaces", and_list(many)),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespace::inspect::{INITIAL_PID_INO, INITIAL_USER_INO};
    use alloc::vec;
    use alloc::vec::Vec;

    #[test]
    fn a_process_shares_every_namespace_with_itself() {
        let me = std::process::id() as Pid;
        let table = table(me, Namespaces::EMPTY);
        assert!(table.contains("uts:["), "{table}");
        assert!(!table.lines().any(|l| l.starts_with("  * ")), "{table}");
        assert!(table.lines().all(|l| l == l.trim_end()), "{table}");
        assert!(table.ends_with("shares every namespace with the launcher\n"));
        // Each row shows what the kernel's own links say (read with std).
        for name in LINKS {
            let target = std::fs::read_link(format!("/proc/self/ns/{name}")).unwrap();
            let target = target.to_str().unwrap();
            let row = table
                .lines()
                .find(|l| l.split_whitespace().next() == Some(name))
                .unwrap();
            assert_eq!(row.matches(target).count(), 2, "{name}: {table}");
        }
        let tree = tree(me, Namespaces::EMPTY);
        assert!(tree.lines().all(|l| l == l.trim_end()), "{tree}");
        assert!(!tree.lines().any(|l| l.starts_with("  * ")), "{tree}");
    }

    /// A made-up snapshot, for the views' shapes: the namespaces as
    /// `(type, inode, owner, parent)` (0 for an owner or parent the
    /// launcher may not see), and the inode of each type for the launcher
    /// and for the child, whose `NSpid` is `nspid`.
    fn made_up(
        namespaces: &[(Namespace, u64, u64, u64)],
        launcher: [u64; 8],
        child: [u64; 8],
        nspid: &[Pid],
    ) -> Snapshot {
        let relative = |ino: u64| match ino {
            0 => Relative::Hidden,
            ino => Relative::Known(NsId { dev: 4, ino }),
        };
        let namespaces = namespaces
            .iter()
            .map(|&(kind, ino, owner, parent)| NsInfo {
                id: NsId { dev: 4, ino },
                kind,
                owner: relative(owner),
                parent: matches!(kind, Namespace::Pid | Namespace::User).then(|| relative(parent)),
                owner_uid: (kind == Namespace::User).then_some(0),
            })
            .collect();
        let process = |pid, inos: [u64; 8], nspid: &[Pid]| Process {
            pid,
            links: LINKS
                .iter()
                .map(|&name| {
                    let kind = Namespace::ALL
                        .iter()
                        .position(|k| name.starts_with(k.name()));
                    (
                        name,
                        Ok(NsId {
                            dev: 4,
                            ino: inos[kind.unwrap()],
                        }),
                    )
                })
                .collect(),
            nspid: Ok(nspid.to_vec()),
        };
        Snapshot {
            processes: vec![
                process(4711, launcher, &[4711]),
                process(4712, child, nspid),
            ],
            namespaces,
        }
    }

    /// The initial namespaces, as `made_up` takes them: cgroup, ipc, mnt,
    /// net, pid, time, user, uts (the order of [`Namespace::ALL`]).
    const HOST: [u64; 8] = [1, 2, 3, 4, INITIAL_PID_INO, 6, INITIAL_USER_INO, 8];

    fn host() -> Vec<(Namespace, u64, u64, u64)> {
        Namespace::ALL
            .iter()
            .zip(HOST)
            .map(|(&kind, ino)| match kind {
                Namespace::User => (kind, ino, 0, 0),
                _ => (kind, ino, INITIAL_USER_INO, 0),
            })
            .collect()
    }

    /// The tree's lines without the title, the key and the summary.
    fn drawn(tree: &str) -> Vec<&str> {
        tree.lines()
            .skip(1)
            .take_while(|l| !l.starts_with("    * the child's new"))
            .collect()
    }

    #[test]
    fn with_user_the_new_user_namespace_owns_the_new_ones() {
        use Namespace::*;
        let mut namespaces = host();
        namespaces.extend([
            (User, 101, INITIAL_USER_INO, INITIAL_USER_INO),
            (Pid, 102, 101, INITIAL_PID_INO),
            (Uts, 103, 101, 0),
        ]);
        let child = [1, 2, 3, 4, 102, 6, 101, 103];
        let snapshot = made_up(&namespaces, HOST, child, &[4712, 1]);
        let tree = tree_of(&snapshot);
        let expected = [
            "    user:[4026531837]   launcher  the initial user namespace; owner uid 0",
            "    ├─cgroup:[1]        both",
            "    ├─ipc:[2]           both",
            "    ├─mnt:[3]           both",
            "    ├─net:[4]           both",
            "    ├─pid:[4026531836]  launcher  the initial PID namespace; the command is pid 4712 here",
            "    ├─time:[6]          both",
            "    ├─uts:[8]           launcher",
            "  * └─user:[101]        child     owner uid 0",
            "  *   ├─pid:[102]       child     parent pid:[4026531836]; the command is pid 1 here",
            "  *   └─uts:[103]       child",
        ];
        assert_eq!(drawn(&tree), expected, "\n{tree}");
        let permissions = "nsclone: the child's new user namespace owns its new pid and uts \
                           namespaces: the command, root there, may change them, and none of \
                           the 5 it shares\n";
        assert!(tree.ends_with(permissions), "{tree}");
        let table = table_of(&snapshot);
        for row in [
            "  * pid                pid:[4026531836]   pid:[102]          user:[101]",
            "  * user               user:[4026531837]  user:[101]         user:[4026531837]",
            "    user:[101]         parent user:[4026531837]; owner uid 0",
            "    pid:[102]          parent pid:[4026531836]; the command is pid 1 there",
            "nsclone: the child has its own pid, user and uts namespaces and shares the other 5",
        ] {
            assert!(table.lines().any(|l| l == row), "{row:?} in:\n{table}");
        }
        assert!(table.ends_with(permissions), "{table}");
    }

    #[test]
    fn without_user_the_new_pid_namespace_hangs_under_its_parent() {
        use Namespace::*;
        let mut namespaces = host();
        namespaces.extend([
            (Pid, 102, INITIAL_USER_INO, INITIAL_PID_INO),
            (Uts, 103, INITIAL_USER_INO, 0),
        ]);
        let child = [1, 2, 3, 4, 102, 6, INITIAL_USER_INO, 103];
        let snapshot = made_up(&namespaces, HOST, child, &[4712, 1]);
        let tree = tree_of(&snapshot);
        let expected = [
            "    user:[4026531837]   both      the initial user namespace; owner uid 0",
            "    ├─cgroup:[1]        both",
            "    ├─ipc:[2]           both",
            "    ├─mnt:[3]           both",
            "    ├─net:[4]           both",
            "    ├─pid:[4026531836]  launcher  the initial PID namespace; the command is pid 4712 here",
            "  * │ └─pid:[102]       child     the command is pid 1 here",
            "    ├─time:[6]          both",
            "    ├─uts:[8]           launcher",
            "  * └─uts:[103]         child",
        ];
        assert_eq!(drawn(&tree), expected, "\n{tree}");
        assert!(
            tree.ends_with(
                "nsclone: the launcher's user namespace owns its new pid and uts namespaces too: \
                 without a user namespace of its own, the command keeps the launcher's \
                 credentials over them\n"
            ),
            "{tree}"
        );
        let table = table_of(&snapshot);
        assert!(table.lines().any(|l| l
            == "    user               user:[4026531837]  user:[4026531837]  none: the initial one"), "{table}");
    }

    #[test]
    fn nested_the_owner_above_the_launcher_is_hidden() {
        // nsclone run by the command of `nsclone -U -p --mount-proc`: the
        // launcher's user namespace (201) and the namespaces made before it
        // are owned by a user namespace the launcher may not see, and its
        // PID namespace's parent is hidden too.
        use Namespace::*;
        let namespaces = [
            (User, 201, 0, 0),
            (Cgroup, 1, 0, 0),
            (Ipc, 2, 0, 0),
            (Mount, 202, 201, 0),
            (Net, 4, 0, 0),
            (Pid, 203, 201, 0),
            (Time, 6, 0, 0),
            (Uts, 204, 201, 0),
            (Pid, 205, 201, 203),
            (Uts, 206, 201, 0),
        ];
        let launcher = [1, 2, 202, 4, 203, 6, 201, 204];
        let child = [1, 2, 202, 4, 205, 6, 201, 206];
        let snapshot = made_up(&namespaces, launcher, child, &[2, 1]);
        let tree = tree_of(&snapshot);
        let expected = [
            "    user:[?]                   the owner of those below: hidden from the launcher (EPERM)",
            "    ├─cgroup:[1]     both",
            "    ├─ipc:[2]        both",
            "    ├─net:[4]        both",
            "    ├─time:[6]       both",
            "    └─user:[201]     both      owner uid 0",
            "      ├─mnt:[202]    both",
            "      ├─pid:[203]    launcher  parent hidden from the launcher (EPERM); the command is pid 2 here",
            "  *   │ └─pid:[205]  child     the command is pid 1 here",
            "      ├─uts:[204]    launcher",
            "  *   └─uts:[206]    child",
        ];
        assert_eq!(drawn(&tree), expected, "\n{tree}");
        let table = table_of(&snapshot);
        assert!(table.lines().any(|l| l
            == "    net                net:[4]     net:[4]     hidden from the launcher (EPERM)"), "{table}");
        assert!(
            table.lines().any(
                |l| l == "    user:[201]  parent hidden from the launcher (EPERM); owner uid 0"
            ),
            "{table}"
        );
    }
}
