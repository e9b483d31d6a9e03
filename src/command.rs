//! The whole launch, in order: what the parent prepares, what the child does.
//!
//! Parent, before clone (it may allocate):
//! 1. refuse what cannot work here, before changing anything (the rules of
//!    time namespaces, see [`namespace::time`]);
//! 2. prepare the exec: argv, envp and every PATH candidate ([`ExecPlan`]);
//! 3. note the identity of its own namespaces that the child will change
//!    (UTS when a hostname is set, mount and network when asked), so the
//!    child can check that it is not changing the host's;
//! 4. prepare everything else the child reads: the hostname, the clock
//!    offsets text; and, for itself, the id maps ([`IdMaps`]);
//! 5. open a close-on-exec pipe on which the child reports a failure, and,
//!    if the parent has work to do while the child waits (write the id maps,
//!    run the caller's `before_exec`) or the child must watch for the
//!    parent's death, a second one whose write end only the parent keeps;
//! 6. map the child's stack with its guard page ([`Stack`]);
//! 7. for a time namespace without a user namespace, unshare(2) one for its
//!    children and write its offsets ([`time::ForChildren`]);
//! 8. block every signal, so that no handler of the caller can run in the
//!    child before exec.
//!
//! Then clone(2) with `CLONE_NEWUTS`, the other `CLONE_NEW*` flags asked for
//! (all but `CLONE_NEWTIME`, which clone cannot carry) and `SIGCHLD`
//! ([`crate::clone`]). The child takes its own steps, from the hold to the
//! exec, told in [`crate::child`].
//!
//! The parent, meanwhile:
//! 1. restores its mask, unmaps its copy of the stack;
//! 2. returns to its old `time_for_children`, if it made a new one;
//! 3. with a user namespace, writes the child's `uid_map`, `setgroups` and
//!    `gid_map` ([`IdMaps::write`]);
//! 4. runs the caller's `before_exec`, then releases the child;
//! 5. reads the report pipe: end-of-file means the command runs.
//!
//! If step 2 or 3 fails, the parent kills the child with SIGKILL and reaps
//! it before returning the error, so nothing is left behind.
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

use std::env;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use syscalls::Errno;

use crate::child::{ChildSteps, Hold, Report, Reporter, Step, read_report};
use crate::clone;
use crate::error::Error;
use crate::exec::{self, ExecFailure, ExecPlan};
use crate::namespace::time::{self, ClockOffsets};
use crate::namespace::user::IdMaps;
use crate::namespace::{self, Hostname, Namespace, Namespaces, NsId, mount, net};
use crate::signal::{self, SigSet};
use crate::stack::Stack;
use crate::sys::{self, Pid};
use crate::trace::CloneFlags;
use crate::wait::{self, WaitStatus};

/// The clone flags of every launch: a new UTS namespace, and SIGCHLD as the
/// exit signal, without which wait4 would not see the child (short of
/// `__WALL`). [`Command::namespace`] adds more.
pub const CLONE_FLAGS: u64 = libc::CLONE_NEWUTS as u64 | libc::SIGCHLD as u64;

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
#[derive(Clone, Debug)]
pub struct Command {
    program: OsString,
    args: Vec<OsString>,
    hostname: Option<Hostname>,
    signal_mask: Option<SigSet>,
    namespaces: Namespaces,
    mount_proc: bool,
    clock_offsets: ClockOffsets,
    pdeathsig: Option<i32>,
    signal_defaults: SigSet,
    signal_ignores: SigSet,
    vfork: bool,
}

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
        wait::wait(self.pid).map_err(|e| Error::syscall(format!("wait4({})", self.pid), e))
    }
}

impl Command {
    /// A command that runs `program`, found as execvp(3) would find it.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            hostname: None,
            signal_mask: None,
            namespaces: Namespaces::EMPTY.with(Namespace::Uts),
            mount_proc: false,
            clock_offsets: ClockOffsets::default(),
            pdeathsig: None,
            signal_defaults: SIGNAL_DEFAULTS,
            signal_ignores: SigSet::EMPTY,
            vfork: false,
        }
    }

    /// Add one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Add several arguments.
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&mut self, args: I) -> &mut Command {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
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
    /// 0 when the parent is in another PID namespace (`--pid`); and a pipe
    /// whose write end only the parent keeps, which hangs up when the
    /// parent's last thread has closed its descriptors, just before the
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
    /// (the nsclone binary has no std `main`) passes `SigSet::EMPTY`, so that
    /// the command inherits the caller's dispositions, as with any exec.
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

    /// The namespaces the command will get.
    pub fn namespaces(&self) -> Namespaces {
        self.namespaces
    }

    /// The flags given to clone(2): the namespaces' `CLONE_NEW*` flags but
    /// `CLONE_NEWTIME`, `SIGCHLD`, and in vfork style [`VFORK_FLAGS`].
    pub fn clone_flags(&self) -> u64 {
        let style = if self.vfork { VFORK_FLAGS } else { 0 };
        CLONE_FLAGS | self.namespaces.clone_flags() | style
    }

    /// Start the command in its new namespaces.
    ///
    /// Returns once the command has been exec'd, or with the error that
    /// prevented it (the child is then already reaped).
    pub fn spawn(&self) -> Result<Child, Error> {
        self.spawn_inner(None)
    }

    /// Like [`spawn`](Command::spawn), but the child waits, already in its
    /// new namespaces, until `before_exec(pid)` has run in the parent.
    /// `--show-ns` uses this to read the child's namespaces before the
    /// command starts (or exits too early to be seen).
    ///
    /// Refused ([`Error::Vfork`]) in vfork style, where the parent sleeps
    /// until the child has exec'd.
    pub fn spawn_with(&self, before_exec: impl FnOnce(Pid)) -> Result<Child, Error> {
        self.spawn_inner(Some(Box::new(before_exec)))
    }

    /// Who creates the time namespace, if one is asked for: see
    /// [`namespace::time`]. Refuses what cannot work, before any change.
    fn time_maker(&self) -> Result<Option<TimeMaker>, Error> {
        if !self.namespaces.contains(Namespace::Time) {
            Ok(None)
        } else if !self.namespaces.contains(Namespace::User) {
            Ok(Some(TimeMaker::Launcher))
        } else if time::exec_enters_time_namespace() {
            Ok(Some(TimeMaker::Child))
        } else {
            Err(Error::Unsupported(
                "with --user, the child creates the time namespace and enters it at execve, \
                 which Linux does only since 6.2; run as root without --user instead",
            ))
        }
    }

    /// In vfork style, refuse what needs the parent between clone and
    /// exec, before anything is changed.
    fn vfork_refusal(&self, before_exec: bool) -> Result<(), Error> {
        if !self.vfork {
            Ok(())
        } else if before_exec {
            Err(Error::Vfork("acting in the parent before exec (--show-ns)"))
        } else if self.namespaces.contains(Namespace::User) {
            Err(Error::Vfork(
                "a user namespace: the parent writes its uid and gid maps before exec",
            ))
        } else if self.namespaces.contains(Namespace::Time) && !time::exec_enters_time_namespace() {
            Err(Error::Vfork(
                "a time namespace before Linux 6.2: the child would enter it only at \
                 execve, which older kernels do not do",
            ))
        } else {
            Ok(())
        }
    }

    fn spawn_inner(&self, before_exec: Option<Box<dyn FnOnce(Pid) + '_>>) -> Result<Child, Error> {
        self.vfork_refusal(before_exec.is_some())?;
        let ns = self.namespaces;
        let time_maker = self.time_maker()?;
        let path = env::var_os("PATH");
        let mut plan = ExecPlan::new(&self.program, &self.args, env::vars_os(), path.as_deref())
            .map_err(|e| Error::Nul(e.0))?;
        let parent_id = |kind: Namespace| -> Result<Option<NsId>, Error> {
            if !ns.contains(kind) {
                return Ok(None);
            }
            namespace::id_of_self(kind)
                .map(Some)
                .map_err(|e| Error::syscall(format!("stat(\"/proc/self/ns/{kind}\")"), e))
        };
        // The UTS check guards sethostname only: without a hostname the
        // child changes nothing there, and the lookup (a /proc path walk,
        // about 10 µs in a fresh process) is saved on both sides.
        let hostname = match &self.hostname {
            Some(name) => Some((name.as_bytes(), parent_id(Namespace::Uts)?.expect("UTS"))),
            None => None,
        };
        let parent_mnt = parent_id(Namespace::Mount)?;
        let parent_net = parent_id(Namespace::Net)?;
        let maps = ns.contains(Namespace::User).then(IdMaps::root);
        let offsets = self.clock_offsets.text();
        let (report_r, report_w) = sys::pipe_cloexec().map_err(|e| Error::syscall("pipe2", e))?;
        // The parent pipe holds the child while the parent has steps of its
        // own, and tells a child with a parent-death signal whether the
        // parent still lives.
        let held = maps.is_some() || before_exec.is_some();
        let hold = if held || self.pdeathsig.is_some() {
            Some(Hold::new()?)
        } else {
            None
        };
        let stack = Stack::new().map_err(|e| Error::syscall("mmap(child stack)", e))?;
        // Undone when dropped, should anything below fail before clone.
        let time_for_children = match time_maker {
            Some(TimeMaker::Launcher) => Some(time::ForChildren::unshare(&offsets)?),
            _ => None,
        };

        let old_mask =
            signal::set_mask(SigSet::ALL).map_err(|e| Error::syscall("rt_sigprocmask", e))?;
        let steps = ChildSteps {
            pdeathsig: self.pdeathsig.map(|sig| (sig, sys::getpid())),
            held,
            child_time: (time_maker == Some(TimeMaker::Child)).then_some(offsets.as_slice()),
            hold: hold.as_ref(),
            hostname,
            parent_mnt,
            mount_proc: self.mount_proc,
            parent_net,
            reset_handlers: self.vfork,
            defaults: self.signal_defaults,
            ignores: self.signal_ignores,
            mask: self.signal_mask.unwrap_or(old_mask),
        };
        let report = Reporter(report_w.raw());
        let mut child = || -> i32 {
            match steps.run() {
                Ok(()) => report.exec(plan.exec()),
                Err((step, errno)) => report.step(step, errno),
            }
        };
        let flags = self.clone_flags();
        // SAFETY: the child closure only makes system calls from `sys` and
        // allocates nothing: everything it touches was prepared above. In
        // vfork style it writes into the parent's memory only its own stack
        // and, for ENOEXEC, one slot of `plan`'s shell argv, which the parent
        // never reads (see `ExecPlan::exec`); no handler of the parent can
        // run in it (signals blocked, then handlers reset before the mask).
        let cloned = unsafe { clone::clone(flags, &stack, &mut child) };

        // Parent only from here. Without CLONE_VM the child has its own copy
        // of the stack and of the pipe's write end: drop ours. With it, the
        // child has exec'd or exited by now (CLONE_VFORK), so the stack is
        // free; its descriptor table was still a copy (no CLONE_FILES).
        let _ = signal::set_mask(old_mask);
        drop(stack);
        drop(report_w);
        let restored = time_for_children.map(time::ForChildren::restore);
        let pid = cloned.map_err(|e| Error::syscall(format!("clone({})", CloneFlags(flags)), e))?;
        let parent_steps = || -> Result<(), Error> {
            restored.transpose()?;
            if let Some(maps) = &maps {
                maps.write(pid)?;
            }
            Ok(())
        };
        if let Err(error) = parent_steps() {
            // The child is still held: it must not run the command.
            let _ = sys::kill(pid, libc::SIGKILL);
            let _ = wait::wait(pid);
            return Err(error);
        }
        if let (Some(hold), true) = (&hold, held) {
            if let Some(before_exec) = before_exec {
                before_exec(pid);
            }
            hold.release();
        }
        // The parent pipe stays open until the report is read: by then the
        // child has exec'd or failed, and is past its checks.
        let report = read_report(&report_r);
        drop(hold);
        match report {
            None => Ok(Child { pid }),
            Some(report) => {
                // The child has exited or is about to: reap it.
                let _ = wait::wait(pid);
                Err(self.error_from(report, &plan, &offsets))
            }
        }
    }

    /// Turn the child's report into an error that names the failed step.
    fn error_from(&self, report: Report, plan: &ExecPlan, offsets: &[u8]) -> Error {
        let errno = Errno::new(report.errno);
        let child = |call: &str| Error::syscall(format!("child: {call}"), errno);
        let check = |ns: Namespace| match errno {
            Errno::EPERM => Error::SameNamespace(ns),
            _ => child(&format!("stat(\"/proc/self/ns/{ns}\")")),
        };
        match report.step {
            Step::ParentDeathSignal => child("prctl(PR_SET_PDEATHSIG)"),
            Step::Hold => child("read(hold pipe)"),
            Step::ParentCheck => child("ppoll(parent pipe)"),
            Step::ParentGone => child("getppid: the parent died before PR_SET_PDEATHSIG"),
            Step::UnshareTime => child("unshare(CLONE_NEWTIME)"),
            Step::TimeOffsets => child(&time::offsets_call(offsets)),
            Step::SameUtsNamespace => check(Namespace::Uts),
            Step::Sethostname => Error::Sethostname {
                name: self
                    .hostname
                    .as_ref()
                    .map_or(vec![], |h| h.as_bytes().to_vec()),
                errno,
            },
            Step::SameMountNamespace => check(Namespace::Mount),
            Step::MakePrivate => child(mount::MAKE_PRIVATE),
            Step::MountProc => child(mount::MOUNT_PROC),
            Step::SameNetNamespace => check(Namespace::Net),
            Step::LoopbackSocket => child(net::SOCKET),
            Step::LoopbackFlags => child(net::GET_FLAGS),
            Step::LoopbackUp => child(net::SET_FLAGS),
            Step::SignalDefaults => child("rt_sigaction"),
            Step::SignalMask => child("rt_sigprocmask"),
            Step::Exec => {
                let mut failure = ExecFailure {
                    errno,
                    candidate: usize::try_from(report.candidate).ok(),
                    interpreter_missing: false,
                };
                if errno == Errno::ENOENT {
                    if let Some(found) = plan.existing_candidate() {
                        failure.candidate = Some(found);
                        failure.interpreter_missing = true;
                    }
                }
                let path = failure.candidate.and_then(|i| plan.candidate(i));
                let reason = path.and_then(|p| exec::explain(p, &failure));
                let path = path.map(|p| OsStr::from_bytes(p.to_bytes()).to_owned());
                Error::Exec {
                    program: plan.program().to_owned(),
                    reason,
                    path,
                    failure,
                }
            }
        }
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
