//! The whole launch, in three steps: what the parent prepares, the clone
//! and the child's steps, what the parent does after.
//!
//! **1. Before clone** (`Launch::prepare`; the parent may allocate):
//! - refuse what cannot work here, before changing anything
//!   ([`Command::check`]: vfork style's limits, the rules of time
//!   namespaces, clock offsets out of range, `/proc` missing, a new root
//!   that cannot be one);
//! - prepare the exec: the command's argv, and the shell's for a script
//!   without `#!` ([`ExecPlan`]);
//! - note the identity of its own namespaces that the child will change
//!   (UTS when a hostname is set, mount and network when asked), so the
//!   child can check that it is not changing the host's;
//! - open a close-on-exec pipe on which the child reports a failure, and,
//!   if the parent has work to do while the child waits (write the id maps,
//!   run the caller's `before_exec`) or the child must watch for the
//!   parent's death, the hold pipe, whose write end only the parent keeps;
//! - map the child's stack with its guard page ([`Stack`]);
//! - for a time namespace without a user namespace, unshare(2) one for its
//!   children and write its offsets ([`time::ForChildren`]).
//!
//! **2. Clone** (`Launch::clone_child`): block every signal, so that no
//! handler of the caller can run in the child before exec; clone(2) with
//! `CLONE_NEWUTS`, the other `CLONE_NEW*` flags asked for (all but
//! `CLONE_NEWTIME`, which clone cannot carry) and `SIGCHLD`, the signal the
//! kernel sends the parent when the child ends ([`crate::clone`]). The child
//! takes its own steps, from the hold to the exec ([`crate::child`]). The
//! parent restores its mask, unmaps its copy of the stack, and returns to
//! its old `time_for_children`.
//!
//! **3. After clone** (`Launch::finish`): with a user namespace, the
//! parent writes the child's `uid_map`, `setgroups` and `gid_map`
//! ([`IdMaps::write`]); runs the caller's `before_exec`, then releases the
//! child; reads the report pipe: end-of-file means the command runs. If a
//! step of its own fails, the parent kills the held child with SIGKILL and
//! reaps it before returning the error, so nothing is left behind.
//!
//! ## Fork style and vfork style
//!
//! By default the child is a copy of the parent (fork style): clone copies
//! the parent's page tables, which costs time in proportion to the parent's
//! resident memory (about 40 µs per MiB on a small VM). With
//! [`Command::vfork`] clone also gets `CLONE_VM | CLONE_VFORK`, as
//! posix_spawn(3) does: the child runs in the parent's memory, on the stack
//! we mapped, and the parent sleeps until the child has exec'd or exited.
//! Nothing is copied, so the cost stays flat however large the parent is.
//! The price: the child must write nothing the parent relies on; no signal
//! handler of the parent may run in it (it resets them to the default before
//! restoring the mask); and the parent cannot act between clone and exec, so
//! [`Command::spawn_with`] and a user namespace (whose id maps the parent
//! writes) are refused, and so is a time namespace on kernels before 6.2
//! (see [`Command::vfork`]).

use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::c_char;

use crate::child::{ChildStep, ChildSteps, Hold, Report};
use crate::clone;
use crate::error::{Error, Refusal, RootFailure, Step, Vfork};
use crate::exec::{Argv, ExecPlan, RawWords};
use crate::namespace::join::{self, Join, Saved, Target};
use crate::namespace::keep::{self, Opened};
use crate::namespace::root::{self, NewRoot};
use crate::namespace::time::{self, ClockOffsets, LauncherRefused, OffsetsText};
use crate::namespace::user::IdMaps;
use crate::namespace::{self, Hostname, Namespace, Namespaces, NsId};
use crate::signal::SigSet;
use crate::stack::Stack;
use crate::sys::{self, Fd, Pid};
use crate::wait::WaitStatus;
use syscalls::Errno;

/// The exit signal of every launch, in the low byte of clone's flags:
/// SIGCHLD, the signal the kernel sends the parent when the child ends.
/// With it the child is an ordinary child for wait4(2); with another exit
/// signal it would be a "clone" child, reported only to a wait4 with
/// `__WALL` or `__WCLONE` (and with 0, no signal at all would be sent).
pub const EXIT_SIGNAL: u64 = libc::SIGCHLD as u64;

/// Added in vfork style: share the parent's memory (`CLONE_VM`) and let
/// the parent sleep until the child has exec'd or exited (`CLONE_VFORK`),
/// which is what makes sharing safe for the child's stack.
pub const VFORK_FLAGS: u64 = (libc::CLONE_VM | libc::CLONE_VFORK) as u64;

/// The signals set back to their default action in the child unless told
/// otherwise: SIGPIPE, which Rust's runtime sets to "ignored" in every
/// program with a std `main`, and which would stay ignored through exec.
/// `std::process::Command` resets it the same way.
pub const SIGNAL_DEFAULTS: SigSet = SigSet::EMPTY.with(libc::SIGPIPE);

/// A command to run in new namespaces, like `std::process::Command`.
///
/// A new UTS namespace is always made; [`Command::namespace`] asks for more.
/// The command gets the process's environment (`environ`), as with
/// execvp(3): like every reader of it, it must not race with another thread
/// changing the environment (which is why `std::env::set_var` is unsafe).
#[derive(Clone, Debug)]
pub struct Command {
    words: Words,
    hostname: Option<Hostname>,
    namespaces: Namespaces,
    mount_proc: bool,
    root: Option<Vec<u8>>,
    clock_offsets: ClockOffsets,
    pdeathsig: Option<i32>,
    signal_mask: Option<SigSet>,
    signal_defaults: SigSet,
    signal_ignores: SigSet,
    vfork: bool,
    /// Whether the caller may have signal handlers (see
    /// [`Command::no_signal_handlers`]).
    handlers: bool,
    /// Existing namespaces to join before clone ([`Command::join_pid`]).
    join: Option<Target>,
    /// Where to keep the new namespaces ([`Command::keep`]).
    keep: Option<Vec<u8>>,
}

/// The command's words: its own, or an argv someone else keeps.
#[derive(Clone, Debug)]
enum Words {
    Owned(Vec<Vec<u8>>),
    Borrowed(RawArgv),
}

/// A NULL-terminated argv that outlives the command (see
/// [`Command::from_raw_argv`]).
#[derive(Clone, Copy, Debug)]
struct RawArgv(*const *const c_char);

// SAFETY: `Command::from_raw_argv`'s caller promises that the array and its
// strings stay valid and unchanged while the command lives; nothing writes
// through the pointer, so any thread may read it.
unsafe impl Send for RawArgv {}
// SAFETY: as above: the array is only read.
unsafe impl Sync for RawArgv {}

/// A running child, to be waited for.
#[derive(Debug)]
#[must_use = "a child that is not waited for stays a zombie"]
pub struct Child {
    pid: Pid,
}

impl Child {
    /// The child's process id, as the parent sees it.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Wait until the child has ended, and reap it.
    pub fn wait(self) -> Result<WaitStatus, Error> {
        reap(self.pid)
    }
}

/// Wait for `pid` to end, and reap it.
fn reap(pid: Pid) -> Result<WaitStatus, Error> {
    match sys::wait4(pid, 0) {
        Ok(Some(status)) => Ok(status),
        Ok(None) => unreachable!("wait4 without WNOHANG returned no status"),
        Err(errno) => Err(launcher(Step::Wait(pid))(errno)),
    }
}

/// A failed system call of the launcher's own, for `map_err`.
fn launcher(step: Step) -> impl Fn(Errno) -> Error {
    move |errno| Error::Launcher { step, errno }
}

impl Command {
    /// A command that runs `program`, found as execvp(3) would find it.
    pub fn new(program: impl AsRef<[u8]>) -> Command {
        Command::with_words(Words::Owned(alloc::vec![program.as_ref().to_vec()]))
    }

    /// A command whose argv is `argv`, as it is: `argv[0]` is the program,
    /// and the array goes to execve(2) unchanged, not copied. The nsclone
    /// binary passes the tail of its own argv, as the kernel placed it.
    ///
    /// # Safety
    /// `argv` must be a NULL-terminated array of pointers to NUL-terminated
    /// strings, with at least one string, and stay valid and unchanged for
    /// as long as the command and its clones live.
    pub unsafe fn from_raw_argv(argv: *const *const c_char) -> Command {
        Command::with_words(Words::Borrowed(RawArgv(argv)))
    }

    fn with_words(words: Words) -> Command {
        Command {
            words,
            hostname: None,
            namespaces: Namespaces::EMPTY.with(Namespace::Uts),
            mount_proc: false,
            root: None,
            clock_offsets: ClockOffsets::default(),
            pdeathsig: None,
            signal_mask: None,
            signal_defaults: SIGNAL_DEFAULTS,
            signal_ignores: SigSet::EMPTY,
            vfork: false,
            handlers: true,
            join: None,
            keep: None,
        }
    }

    /// Add one argument.
    pub fn arg(&mut self, arg: impl AsRef<[u8]>) -> &mut Command {
        self.args([arg])
    }

    /// Add several arguments.
    ///
    /// # Panics
    /// For a command made with [`Command::from_raw_argv`], whose argv is
    /// fixed.
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<[u8]>>(&mut self, args: I) -> &mut Command {
        match &mut self.words {
            Words::Owned(words) => words.extend(args.into_iter().map(|a| a.as_ref().to_vec())),
            Words::Borrowed(_) => panic!("a raw argv is used as it is"),
        }
        self
    }

    /// Set this hostname in the new UTS namespace. Without it, the child
    /// keeps a copy of the parent's.
    pub fn hostname(&mut self, name: Hostname) -> &mut Command {
        self.hostname = Some(name);
        self
    }

    /// The signal mask the command starts with. By default, the caller's
    /// mask at the time of spawning.
    pub fn signal_mask(&mut self, mask: SigSet) -> &mut Command {
        self.signal_mask = Some(mask);
        self
    }

    /// Run the command in a new namespace of type `ns` too. Some types come
    /// with a step of their own: a user namespace maps the caller's uid and
    /// gid to 0 ([`IdMaps::root`]), a mount namespace makes `/` private, a
    /// network namespace brings `lo` up (see [`crate::namespace`]).
    pub fn namespace(&mut self, ns: Namespace) -> &mut Command {
        self.namespaces = self.namespaces.with(ns);
        self
    }

    /// Mount a fresh `/proc` for the new PID namespace; implies new mount
    /// and PID namespaces, as `unshare --mount-proc` does.
    pub fn mount_proc(&mut self) -> &mut Command {
        self.mount_proc = true;
        self.namespace(Namespace::Mount).namespace(Namespace::Pid)
    }

    /// Make `dir` the command's root directory, `/`, with pivot_root(2) in a
    /// new mount namespace (implied), and detach the old root, so that
    /// nothing of the host's file tree is reachable from inside; the
    /// command is then found in `PATH` inside `dir`. With a new PID
    /// namespace a fresh `/proc` is mounted in it, as if with
    /// [`Command::mount_proc`], so `ps` works there. See
    /// [`namespace::root`] for why pivot_root and not chroot(2).
    ///
    /// [`Command::check`] refuses, before anything is made, a `dir` that
    /// does not exist, is not a directory or is the current root, and a
    /// missing `dir/proc` when a proc is to be mounted there.
    ///
    /// A `dir` with a NUL byte, which no path can hold, is refused there too
    /// ([`Error::Nul`]).
    pub fn root(&mut self, dir: impl AsRef<[u8]>) -> &mut Command {
        self.root = Some(dir.as_ref().to_vec());
        self.namespace(Namespace::Mount)
    }

    /// Run the command in the namespaces of the running process `pid`:
    /// every type whose namespace is not already the caller's, except the
    /// types asked for anew, joined at once through a pidfd (setns(2), Linux
    /// 5.8). See [`crate::namespace::join`].
    ///
    /// The UTS namespace, new by default, is then the process's, unless a
    /// hostname is set: a hostname is set only in a new UTS namespace.
    /// Joining a mount namespace starts the command at its `/`.
    ///
    /// The calling thread joins before clone and returns to its own
    /// namespaces (and working directory) after, except from a joined user
    /// namespace, which has no way back: the calling process then stays in
    /// every joined namespace. Joining a user, mount or time namespace needs
    /// a single-threaded caller (the kernel's rule), and is refused
    /// otherwise.
    pub fn join_pid(&mut self, pid: Pid) -> &mut Command {
        self.join = Some(Target::Pid(pid));
        self
    }

    /// Like [`Command::join_pid`], from the namespace files in `dir`, as
    /// [`Command::keep`] leaves them (`DIR/uts`, `DIR/net`...): one setns(2)
    /// per file, the user namespace first for an unprivileged caller and
    /// last for root.
    pub fn join_dir(&mut self, dir: impl AsRef<[u8]>) -> &mut Command {
        self.join = Some(Target::Dir(dir.as_ref().to_vec()));
        self
    }

    /// Keep the command's new namespaces alive after it has exited: bind
    /// mounts of their files on `DIR/uts`, `DIR/net`... in the caller's mount
    /// namespace, made once the command runs (see
    /// [`crate::namespace::keep`]). `nsclone --unkeep DIR`
    /// ([`keep::unkeep`]) releases them. Needs root (a mount in the caller's
    /// namespace), the fork style, and is refused after joining a user
    /// namespace.
    pub fn keep(&mut self, dir: impl AsRef<[u8]>) -> &mut Command {
        self.keep = Some(dir.as_ref().to_vec());
        self
    }

    /// Shift the clocks of a new time namespace; implies one.
    ///
    /// Without a user namespace, the caller must be single-threaded (see
    /// [`namespace::time`]); with one, the kernel must be Linux 6.2 or later.
    pub fn clock_offsets(&mut self, offsets: ClockOffsets) -> &mut Command {
        self.clock_offsets = offsets;
        self.namespace(Namespace::Time)
    }

    /// Have the kernel send `sig` to the child when the thread that spawned
    /// it exits, or the whole process dies, even by SIGKILL (prctl(2)
    /// `PR_SET_PDEATHSIG`; `unshare --kill-child`).
    ///
    /// The child arms it before exec, then checks that its parent is still
    /// there: a parent that died before the signal was armed would never
    /// send it, so the child then exits with 125 instead of running the
    /// command. Two witnesses tell it: getppid(2), which changes as soon as
    /// the kernel reparents the child (and sends the armed signal), but reads
    /// 0 when the parent is in another PID namespace (`--pid`); and the hold
    /// pipe, whose write end only the parent keeps, and which hangs up when
    /// the parent's last thread has closed its descriptors, just before the
    /// kernel reparents its children. Together they close the race, except
    /// for a multi-threaded parent and a new PID namespace: there the
    /// reparenting may come before the hang-up, in the instant between the
    /// exits of the parent's threads.
    ///
    /// Caveats, from the kernel: the signal follows the spawning *thread*,
    /// so spawn from a thread that outlives the child; it is cleared when
    /// the command execs a set-user-ID program or changes its credentials.
    pub fn parent_death_signal(&mut self, sig: i32) -> &mut Command {
        self.pdeathsig = Some(sig);
        self
    }

    /// The signals whose action the child sets back to the default before
    /// exec, as posix_spawnattr_setsigdefault(3) does; [`SIGNAL_DEFAULTS`]
    /// unless set. A caller that did not let std's runtime ignore SIGPIPE
    /// (the nsclone binary has no std runtime at all) passes
    /// `SigSet::EMPTY`, so that the command inherits the caller's
    /// dispositions, as with any exec.
    pub fn signal_defaults(&mut self, set: SigSet) -> &mut Command {
        self.signal_defaults = set;
        self
    }

    /// The signals the child sets to "ignored" just before exec (after
    /// [`signal_defaults`](Command::signal_defaults)). For a caller that
    /// ignored a signal but had to take it back for itself: the nsclone
    /// command does so with SIGCHLD, since while SIGCHLD is ignored the
    /// kernel reaps children at once and no parent can learn their status.
    pub fn signal_ignores(&mut self, set: SigSet) -> &mut Command {
        self.signal_ignores = set;
        self
    }

    /// Share the parent's memory with the child until it execs
    /// (`CLONE_VM | CLONE_VFORK`, as posix_spawn does) instead of giving it
    /// a copy: the spawn then costs the same however much memory the
    /// caller uses. See the module documentation for what it rules out.
    ///
    /// The time namespace: with `CLONE_VM` the kernel does not move the
    /// child into the launcher's `time_for_children` at clone, as it does in
    /// fork style; the child's execve does, on Linux 6.2 and later (checked
    /// on 6.18: before exec the child shows the old `/proc/self/ns/time`,
    /// after it the new one). The child reads no clock before exec, so there
    /// the command lands in the same time namespace in both styles; before
    /// 6.2 it would silently keep the host's clocks, so vfork style with a
    /// time namespace is refused there.
    pub fn vfork(&mut self, on: bool) -> &mut Command {
        self.vfork = on;
        self
    }

    /// Promise that the calling process has no signal handler installed, so
    /// that a vfork-style child need not look for them (64 rt_sigaction(2)
    /// calls) before it restores the mask. True of the nsclone binary: it
    /// installs none, and exec reset its caller's.
    pub fn no_signal_handlers(&mut self) -> &mut Command {
        self.handlers = false;
        self
    }

    /// The namespaces the command will get.
    pub fn namespaces(&self) -> Namespaces {
        self.namespaces
    }

    /// The command's words, `argv[0]` first.
    pub fn words(&self) -> impl Iterator<Item = &[u8]> + Clone {
        let (owned, borrowed) = match &self.words {
            Words::Owned(words) => (Some(words.iter().map(Vec::as_slice)), None),
            // SAFETY: `from_raw_argv`'s contract: the array outlives `self`.
            Words::Borrowed(raw) => (None, Some(unsafe { RawWords::new(raw.0) })),
        };
        let owned = owned.into_iter().flatten();
        owned.chain(borrowed.into_iter().flatten())
    }

    /// Refuse, before anything is changed, what cannot work here: what
    /// vfork style cannot serve, a time namespace this kernel or this
    /// caller cannot make, clock offsets out of the kernel's range, a step
    /// that needs `/proc` where none is mounted. `before_exec` says whether
    /// the parent will act before exec ([`Command::spawn_with`]).
    ///
    /// [`Command::spawn`] checks this itself; call it first to refuse before
    /// announcing anything, then spawn the [`Checked`] command it returns.
    pub fn check(&self, before_exec: bool) -> Result<Checked<'_>, Error> {
        let ns = self.namespaces;
        if self.vfork {
            if before_exec {
                return Err(Error::Vfork(Vfork::BeforeExec));
            } else if ns.contains(Namespace::User) {
                return Err(Error::Vfork(Vfork::User));
            } else if ns.contains(Namespace::Time) && !time::exec_enters_time_namespace() {
                return Err(Error::Vfork(Vfork::TimeBefore62));
            }
        }
        let needs_proc = ns.contains(Namespace::User) || ns.contains(Namespace::Time);
        if needs_proc && !namespace::proc_mounted() {
            return Err(Error::Refused(Refusal::NoProc(
                if ns.contains(Namespace::User) {
                    "--user writes the uid and gid maps in /proc/PID"
                } else {
                    "--time writes the clock offsets in /proc/self/timens_offsets"
                },
            )));
        }
        // The default UTS namespace gives way to a joined one; a hostname
        // asks for a new one.
        let asked = match (&self.join, self.hostname) {
            (Some(_), None) => ns.without(Namespace::Uts),
            _ => ns,
        };
        let join = match &self.join {
            Some(target) => Some(target.look(asked).map_err(Error::Join)?),
            None => None,
        };
        let joined = join.as_ref().map_or(Namespaces::EMPTY, Join::types);
        let new = match joined.contains(Namespace::Uts) {
            true => asked,
            false => asked.with(Namespace::Uts),
        };
        let one_thread = [Namespace::User, Namespace::Mount, Namespace::Time];
        if let Some(&kind) = one_thread.iter().find(|&&kind| joined.contains(kind)) {
            if !namespace::single_threaded() {
                return Err(Error::Refused(Refusal::JoinThreads(kind)));
            }
        }
        let joined_user = joined.contains(Namespace::User);
        if joined_user && self.time_maker() == Some(TimeMaker::Launcher) {
            return Err(Error::Refused(Refusal::JoinUserTime));
        }
        if let Some(dir) = &self.keep {
            if self.vfork {
                return Err(Error::Vfork(Vfork::Keep));
            } else if joined_user {
                return Err(Error::Refused(Refusal::KeepJoinedUser));
            } else if self.time_maker() == Some(TimeMaker::Child) {
                return Err(Error::Refused(Refusal::KeepUserTime));
            } else if sys::geteuid() != 0 {
                return Err(Error::Refused(Refusal::KeepNotRoot));
            }
            keep::check(dir, new).map_err(Error::Keep)?;
        }
        match self.time_maker() {
            Some(TimeMaker::Launcher) => time::launcher_may_unshare().map_err(|refused| {
                Error::Refused(match refused {
                    LauncherRefused::Threads => Refusal::TimeThreads,
                    LauncherRefused::ForChildrenTaken => Refusal::TimeForChildrenTaken,
                })
            })?,
            Some(TimeMaker::Child) if !time::exec_enters_time_namespace() => {
                return Err(Error::Refused(Refusal::TimeUserBefore62));
            }
            _ => {}
        }
        self.clock_offsets
            .check()
            .map_err(|refused| Error::Refused(Refusal::Offset(refused)))?;
        let root = self.root_dir()?;
        let root_proc = match &root {
            Some(dir) if self.proc_in_root() => Some(root::proc_dir(dir.as_bytes())),
            _ => None,
        };
        if let Some(dir) = &root {
            root::check(dir, root_proc.as_deref()).map_err(|refused| Error::Root {
                dir: dir.as_bytes().to_vec(),
                failure: RootFailure::Refused(refused),
            })?;
        }
        Ok(Checked {
            command: self,
            join,
            new,
            root,
            root_proc,
        })
    }

    /// Start the command in its new namespaces.
    ///
    /// Returns once the command has been exec'd, or with the error that
    /// prevented it (the child is then already reaped).
    pub fn spawn(&self) -> Result<Child, Error> {
        self.check(false)?.spawn()
    }

    /// Like [`spawn`](Command::spawn), but the child waits, already in its
    /// new namespaces, until `before_exec(pid)` has run in the parent.
    /// `--show-ns` uses this to read the child's namespaces before the
    /// command starts (or exits too early to be seen).
    ///
    /// Refused ([`Error::Vfork`]) in vfork style, where the parent sleeps
    /// until the child has exec'd.
    pub fn spawn_with(&self, before_exec: impl FnOnce(Pid)) -> Result<Child, Error> {
        self.check(true)?.spawn_with(before_exec)
    }

    /// The argv execve gets: the caller's strings, checked for NUL bytes,
    /// or the borrowed array as it is.
    fn argv(&self) -> Result<Argv, Error> {
        match &self.words {
            Words::Borrowed(raw) => Ok(Argv::Borrowed(raw.0)),
            Words::Owned(words) => Argv::owned(words.iter().map(Vec::as_slice))
                .map_err(|word| Error::Nul(word.to_vec())),
        }
    }

    /// The new root as a C string, for the system calls.
    fn root_dir(&self) -> Result<Option<CString>, Error> {
        self.root
            .as_ref()
            .map(|dir| CString::new(dir.as_slice()).map_err(|_| Error::Nul(dir.clone())))
            .transpose()
    }

    /// Whether a fresh proc is mounted in the new root: with
    /// [`Command::mount_proc`], or with a new PID namespace, where the
    /// host's processes could not be seen anyway and `ps` should work.
    fn proc_in_root(&self) -> bool {
        self.root.is_some() && (self.mount_proc || self.namespaces.contains(Namespace::Pid))
    }

    /// Who creates the time namespace, if one is asked for: see
    /// [`namespace::time`].
    fn time_maker(&self) -> Option<TimeMaker> {
        if !self.namespaces.contains(Namespace::Time) {
            None
        } else if self.namespaces.contains(Namespace::User) {
            Some(TimeMaker::Child)
        } else {
            Some(TimeMaker::Launcher)
        }
    }
}

/// A command that passed [`Command::check`]: nothing stands in the way of
/// spawning it but what only trying can tell.
#[derive(Debug)]
#[must_use = "a checked command does nothing until it is spawned"]
pub struct Checked<'a> {
    command: &'a Command,
    /// What will be joined, looked at.
    join: Option<Join>,
    /// The namespaces the command gets new: those asked for, and UTS unless
    /// it is joined.
    new: Namespaces,
    /// The new root, and `DIR/proc` when a proc is mounted there, checked.
    root: Option<CString>,
    root_proc: Option<CString>,
}

impl Checked<'_> {
    /// The namespaces the command will get new.
    pub fn namespaces(&self) -> Namespaces {
        self.new
    }

    /// The namespaces that will be joined, and where from.
    pub fn joined(&self) -> Option<(Namespaces, &Target)> {
        self.join.as_ref().map(|join| (join.types(), join.target()))
    }

    /// [`Command::spawn`], checked.
    pub fn spawn(self) -> Result<Child, Error> {
        self.launch(None::<fn(Pid)>)
    }

    /// [`Command::spawn_with`], checked.
    pub fn spawn_with(self, before_exec: impl FnOnce(Pid)) -> Result<Child, Error> {
        if self.command.vfork {
            return Err(Error::Vfork(Vfork::BeforeExec));
        }
        self.launch(Some(before_exec))
    }

    /// The three steps of the module documentation.
    fn launch(self, before_exec: Option<impl FnOnce(Pid)>) -> Result<Child, Error> {
        let argv = self.command.argv()?;
        let mut launch = Launch::prepare(self, &argv, before_exec.is_some())?;
        let pid = launch.clone_child()?;
        launch.finish(pid, before_exec)
    }
}

/// Who makes a time namespace: see [`namespace::time`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimeMaker {
    /// The launcher, with unshare(2) before clone: without a user namespace.
    Launcher,
    /// The child, inside its new user namespace.
    Child,
}

/// One launch, between its three steps: what the parent prepared.
struct Launch<'a> {
    command: &'a Command,
    /// The namespaces the child gets new.
    new: Namespaces,
    /// What is joined before clone, and how to come back.
    join: Option<Join>,
    saved: Option<Saved>,
    /// With `--keep`: the child's new namespaces, open while it is held.
    opened: Option<Opened>,
    plan: ExecPlan<'a>,
    /// The parent's namespaces the child checks before changing its own.
    parent_uts: Option<NsId>,
    parent_mnt: Option<NsId>,
    parent_net: Option<NsId>,
    /// The new root, and `DIR/proc` when a proc is mounted there.
    root: Option<CString>,
    root_proc: Option<CString>,
    maps: Option<IdMaps>,
    offsets: OffsetsText,
    report: (Fd, Option<Fd>),
    /// Whether the child waits for the parent's byte.
    held: bool,
    hold: Option<Hold>,
    stack: Option<Stack>,
    time_for_children: Option<time::ForChildren>,
}

impl<'a> Launch<'a> {
    /// Step 1: everything before clone. Refusals were checked already.
    fn prepare(checked: Checked<'a>, argv: &'a Argv, before_exec: bool) -> Result<Self, Error> {
        let Checked {
            command,
            join,
            new,
            root,
            root_proc,
        } = checked;
        let parent_id = |kind: Namespace| match new.contains(kind) {
            true => NsId::of_self(kind)
                .map(Some)
                .map_err(launcher(Step::Identity(kind))),
            false => Ok(None),
        };
        // The UTS check guards sethostname only: without a hostname the
        // child changes nothing there, and the lookup is saved on both sides.
        let parent_uts = match command.hostname {
            Some(_) => parent_id(Namespace::Uts)?,
            None => None,
        };
        let (parent_mnt, parent_net) = (parent_id(Namespace::Mount)?, parent_id(Namespace::Net)?);
        // Joined after the identities are noted: the child's checks still
        // mean "not the caller's own"; undone when `saved` is dropped,
        // should anything below fail before clone.
        let saved = match &join {
            Some(join) => {
                let saved = join.save().map_err(Error::Join)?;
                join.enter().map_err(Error::Join)?;
                Some(saved)
            }
            None => None,
        };
        // After the join: ids as the joined user namespace sees them.
        let maps = new.contains(Namespace::User).then(IdMaps::root);
        let why = "the report pipe: O_CLOEXEC, so a successful exec closes it";
        let (report_r, report_w) = sys::pipe_cloexec(why).map_err(launcher(Step::ReportPipe))?;
        let held = maps.is_some() || before_exec || command.keep.is_some();
        let hold = match held || command.pdeathsig.is_some() {
            true => Some(Hold::new().map_err(launcher(Step::HoldPipe))?),
            false => None,
        };
        let mut launch = Launch {
            command,
            new,
            join,
            saved,
            opened: None,
            plan: ExecPlan::new(argv),
            parent_uts,
            parent_mnt,
            parent_net,
            root,
            root_proc,
            maps,
            offsets: match new.contains(Namespace::Time) {
                true => command.clock_offsets.text(time::Shift::of_caller()),
                false => OffsetsText::new(),
            },
            report: (report_r, Some(report_w)),
            held,
            hold,
            stack: Some(Stack::new().map_err(launcher(Step::Stack))?),
            time_for_children: None,
        };
        // Undone when dropped, should anything below fail before clone.
        if command.time_maker() == Some(TimeMaker::Launcher) {
            let made = time::ForChildren::unshare(launch.offsets.as_bytes());
            let made = made.map_err(|(step, errno)| launcher(Step::Time(step))(errno))?;
            launch.time_for_children = Some(made);
        }
        Ok(launch)
    }

    /// Step 2: block signals, clone; the child runs its steps. Returns the
    /// child's pid, with the parent's memory as it was before.
    fn clone_child(&mut self) -> Result<Pid, Error> {
        let command = self.command;
        let old_mask =
            sys::sigprocmask(libc::SIG_SETMASK, SigSet::ALL).map_err(launcher(Step::SignalMask))?;
        let child_time = command.time_maker() == Some(TimeMaker::Child);
        let steps = ChildSteps {
            pdeathsig: command.pdeathsig.map(|sig| (sig, sys::getpid())),
            held: self.held,
            hold: self.hold.as_ref(),
            child_time: child_time.then_some(self.offsets.as_bytes()),
            hostname: command.hostname.as_ref().zip(self.parent_uts),
            parent_mnt: self.parent_mnt,
            mount_proc: command.mount_proc && command.root.is_none(),
            parent_net: self.parent_net,
            root: self.root.as_deref().map(|dir| NewRoot {
                dir,
                proc: self.root_proc.as_deref(),
            }),
            reset_handlers: command.vfork && command.handlers,
            defaults: command.signal_defaults,
            ignores: command.signal_ignores,
            mask: command.signal_mask.unwrap_or(old_mask),
        };
        let (plan, report) = (&mut self.plan, self.report.1.as_ref());
        let report = report.expect("the report pipe's write end is open until clone");
        let mut child = || steps.run(plan, report);
        let style = if command.vfork { VFORK_FLAGS } else { 0 };
        let flags = EXIT_SIGNAL | self.new.clone_flags() | style;
        let stack = self.stack.as_ref().expect("a stack until clone");
        // SAFETY: the child closure only makes system calls from `sys` and
        // allocates nothing: everything it touches was prepared above. In
        // vfork style it writes into the parent's memory only its own stack,
        // the trace's note of who speaks (which clone restores) and, for
        // ENOEXEC, one slot of `plan`'s shell argv, which the parent never
        // reads (see `ExecPlan::exec`); no handler of the parent can run in
        // it (signals blocked, then handlers reset before the mask).
        let cloned = unsafe { clone::clone(flags, stack, &mut child) };

        // Parent only from here. Without CLONE_VM the child has its own copy
        // of the stack and of the report pipe's write end: drop ours. With
        // it, the child has exec'd or exited by now (CLONE_VFORK), so the
        // stack is free; its descriptor table was still a copy (no
        // CLONE_FILES).
        let _ = sys::sigprocmask(libc::SIG_SETMASK, old_mask);
        self.stack = None;
        self.report.1 = None;
        let restored = self
            .time_for_children
            .take()
            .map(time::ForChildren::restore);
        let back = self.saved.take().map(Saved::restore);
        let pid = match (cloned, &self.join) {
            (Err(Errno::ENOMEM), Some(join)) if join.types().contains(Namespace::Pid) => {
                let dead = join.target().failed(join::Step::DeadPidNamespace);
                return Err(Error::Join(dead(Errno::ENOMEM)));
            }
            (cloned, _) => cloned.map_err(launcher(Step::Clone(flags)))?,
        };
        if let Some(Err((step, errno))) = restored {
            self.kill_held(pid);
            return Err(launcher(Step::Time(step))(errno));
        }
        if let Some(Err((ns, errno))) = back {
            self.kill_held(pid);
            let join = self.join.as_ref().expect("only a join saves namespaces");
            return Err(Error::Join(join.target().failed(join::Step::Restore(ns))(
                errno,
            )));
        }
        Ok(pid)
    }

    /// Step 3: the parent's own steps while the child is held, then the
    /// report.
    fn finish(mut self, pid: Pid, before_exec: Option<impl FnOnce(Pid)>) -> Result<Child, Error> {
        if let Some(maps) = &self.maps {
            if let Err(failed) = maps.write(pid) {
                self.kill_held(pid);
                return Err(Error::Map(failed));
            }
        }
        if let Some(dir) = &self.command.keep {
            match keep::open_child(dir, pid, self.new) {
                Ok(opened) => self.opened = Some(opened),
                Err(failed) => {
                    self.kill_held(pid);
                    return Err(Error::Keep(failed));
                }
            }
        }
        if let (Some(hold), true) = (&self.hold, self.held) {
            if let Some(before_exec) = before_exec {
                before_exec(pid);
            }
            hold.release();
        }
        // The hold pipe stays open until the report is read: by then the
        // child has exec'd or failed, and is past its checks.
        let report = Report::read(&self.report.0);
        drop(self.hold.take());
        let report = match report {
            Ok(None) => return self.keep(pid),
            Ok(Some(report)) => report,
            Err(error) => {
                // A child whose report is unreadable must not go on.
                let _ = sys::kill(pid, libc::SIGKILL, "its report is unreadable");
                let _ = reap(pid);
                return Err(Error::Report(error));
            }
        };
        // The child has exited or is about to: reap it.
        let _ = reap(pid);
        Err(match report {
            Report::Exec(failure) => {
                let path = failure.candidate.and_then(|i| self.plan.candidate(i));
                Error::Exec {
                    program: self.plan.program().to_vec(),
                    path,
                    failure: failure.into(),
                }
            }
            Report::Step(ChildStep::Sethostname, Some(errno)) => Error::Sethostname {
                name: self.command.hostname.expect("a hostname was set"),
                errno,
            },
            Report::Step(step, Some(errno)) if step.root().is_some() => Error::Root {
                dir: self.command.root.clone().unwrap_or_default(),
                failure: RootFailure::Step(step.root().expect("a root step"), errno),
            },
            Report::Step(step, errno) => Error::Child { step, errno },
        })
    }

    /// The command runs: with `--keep`, bind its namespaces, open since it
    /// was held. Its mounts are private by now (see
    /// [`crate::namespace::keep`]). If that fails, the command must not go
    /// on as if they were kept: it is killed.
    fn keep(self, pid: Pid) -> Result<Child, Error> {
        let (Some(opened), Some(dir)) = (self.opened, &self.command.keep) else {
            return Ok(Child { pid });
        };
        match opened.bind(dir) {
            Ok(()) => Ok(Child { pid }),
            Err(failed) => {
                let why = "its namespaces could not be kept: it must not run as if they were";
                let _ = sys::kill(pid, libc::SIGKILL, why);
                let _ = reap(pid);
                Err(Error::Keep(failed))
            }
        }
    }

    /// A parent step failed: the held child must not run the command.
    fn kill_held(&self, pid: Pid) {
        let why = "the child is held, and must not run the command: a step of ours failed";
        let _ = sys::kill(pid, libc::SIGKILL, why);
        let _ = reap(pid);
    }
}
