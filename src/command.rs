//! The whole launch, in order: what the parent prepares, what the child does.
//!
//! Parent, before clone (it may allocate):
//! 1. prepare the exec: argv, envp and every PATH candidate ([`ExecPlan`]);
//! 2. if a hostname is to be set, note the identity of its own UTS namespace;
//! 3. open a close-on-exec pipe on which the child reports a failure;
//! 4. map the child's stack with its guard page ([`Stack`]);
//! 5. block every signal, so that no handler of the caller can run in the
//!    child before exec.
//!
//! Then clone(`CLONE_NEWUTS | SIGCHLD`) ([`crate::clone`]). The child, which
//! may not allocate:
//! 1. checks that its UTS namespace is not the parent's, then sets the
//!    hostname with sethostname(2);
//! 2. restores SIGPIPE's default action and the signal mask the command
//!    should start with;
//! 3. execs ([`ExecPlan::exec`]). On success the pipe closes by itself
//!    (`O_CLOEXEC`), and the parent reads end-of-file; on failure the child
//!    writes what failed into the pipe and exits with 125, 126 or 127.
//!
//! The parent, meanwhile, restores its mask, unmaps its copy of the stack,
//! and reads the pipe: end-of-file means the command runs.
//!
//! ## Fork style and vfork style
//!
//! By default the child is a copy of the parent (fork style): clone copies
//! the parent's page tables, which costs time in proportion to the parent's
//! resident memory (about 36 µs per MiB on a small VM). With
//! [`Command::vfork`] clone also gets `CLONE_VM | CLONE_VFORK`, as
//! posix_spawn(3) does: the child runs in the parent's memory, on the stack
//! we mapped, and the parent sleeps until the child has exec'd or exited.
//! Nothing is copied, so the cost stays flat however large the parent is.
//! The price is that the child must write nothing the parent relies on, no
//! signal handler of the parent may run in it (it resets them to the
//! default before restoring the mask), and the parent cannot act between
//! clone and exec: [`Command::spawn_with`] is refused.

use std::env;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use syscalls::Errno;

use crate::clone;
use crate::error::{EXIT_LAUNCHER, Error};
use crate::exec::{ExecFailure, ExecPlan};
use crate::namespace::{self, Hostname};
use crate::signal::{self, SigSet};
use crate::stack::Stack;
use crate::sys::{self, Fd, Pid};
use crate::wait::{self, WaitStatus};

/// The clone flags of every launch: a new UTS namespace, and SIGCHLD as the
/// exit signal, without which wait4 would not see the child (short of
/// `__WALL`).
pub const CLONE_FLAGS: u64 = libc::CLONE_NEWUTS as u64 | libc::SIGCHLD as u64;

/// Added in vfork style: share the parent's memory (`CLONE_VM`) and let
/// the parent sleep until the child has exec'd or exited (`CLONE_VFORK`),
/// which is what makes sharing safe for the child's stack.
pub const VFORK_FLAGS: u64 = (libc::CLONE_VM | libc::CLONE_VFORK) as u64;

/// A command to run in a new UTS namespace, like `std::process::Command`.
#[derive(Clone, Debug)]
pub struct Command {
    program: OsString,
    args: Vec<OsString>,
    hostname: Option<Hostname>,
    signal_mask: Option<SigSet>,
    signal_defaults: SigSet,
    vfork: bool,
}

/// The signals set back to their default action in the child unless told
/// otherwise: SIGPIPE, which Rust's runtime sets to "ignored" in every
/// program with a std `main`, and which would stay ignored through exec.
/// `std::process::Command` resets it the same way.
pub const SIGNAL_DEFAULTS: SigSet = SigSet::EMPTY.with(libc::SIGPIPE);

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
            signal_defaults: SIGNAL_DEFAULTS,
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

    /// The signals whose action the child sets back to the default before
    /// exec, as posix_spawnattr_setsigdefault(3) does; [`SIGNAL_DEFAULTS`]
    /// unless set. A caller that did not let std's runtime ignore SIGPIPE
    /// (the nsclone binary has no std `main`) passes `SigSet::EMPTY`, so that
    /// the command inherits the caller's dispositions, as with any exec.
    pub fn signal_defaults(&mut self, set: SigSet) -> &mut Command {
        self.signal_defaults = set;
        self
    }

    /// Share the parent's memory with the child until it execs
    /// (`CLONE_VM | CLONE_VFORK`, as posix_spawn does) instead of giving it
    /// a copy: the spawn then costs the same however much memory the
    /// caller uses. See the module documentation for what it rules out.
    ///
    /// The time namespace: with `CLONE_VM` the kernel does not move the
    /// child into the caller's `time_for_children` namespace at clone; its
    /// execve does, on kernels since 6.2 (checked on 6.18: before exec the
    /// child shows the old `/proc/self/ns/time`, after it the new one). The
    /// child reads no clock before exec, so the command sees the same time
    /// namespace in both styles there; on older kernels a caller that
    /// unshares a time namespace must not use vfork style.
    pub fn vfork(&mut self, on: bool) -> &mut Command {
        self.vfork = on;
        self
    }

    /// Start the command in a new UTS namespace.
    ///
    /// Returns once the command has been exec'd, or with the error that
    /// prevented it (the child is then already reaped).
    pub fn spawn(&self) -> Result<Child, Error> {
        self.spawn_inner(None)
    }

    /// Like [`spawn`](Command::spawn), but the child waits, already in its
    /// new namespace, until `before_exec(pid)` has run in the parent.
    /// `--show-ns` uses this to read the child's namespaces before the
    /// command starts (or exits too early to be seen).
    ///
    /// Refused ([`Error::Vfork`]) in vfork style, where the parent sleeps
    /// until the child has exec'd.
    pub fn spawn_with(&self, before_exec: impl FnOnce(Pid)) -> Result<Child, Error> {
        self.spawn_inner(Some(Box::new(before_exec)))
    }

    fn spawn_inner(&self, before_exec: Option<Box<dyn FnOnce(Pid) + '_>>) -> Result<Child, Error> {
        if self.vfork && before_exec.is_some() {
            return Err(Error::Vfork("acting in the parent before exec"));
        }
        let flags = if self.vfork {
            CLONE_FLAGS | VFORK_FLAGS
        } else {
            CLONE_FLAGS
        };
        let path = env::var_os("PATH");
        let mut plan = ExecPlan::new(&self.program, &self.args, env::vars_os(), path.as_deref())
            .map_err(|e| Error::Nul(e.0))?;
        // The identity check guards sethostname only: without a hostname
        // the child changes nothing, and the lookup (a /proc path walk,
        // about 10 µs in a fresh process) is saved on both sides.
        let hostname = self.hostname.as_ref().map(Hostname::as_bytes);
        let parent_uts = match hostname {
            Some(_) => Some(
                namespace::uts_of_self()
                    .map_err(|e| Error::syscall("stat(\"/proc/self/ns/uts\")", e))?,
            ),
            None => None,
        };
        let (report_r, report_w) = sys::pipe_cloexec().map_err(|e| Error::syscall("pipe2", e))?;
        let hold = match before_exec {
            Some(_) => Some(sys::pipe_cloexec().map_err(|e| Error::syscall("pipe2", e))?),
            None => None,
        };
        let stack = Stack::new().map_err(|e| Error::syscall("mmap(child stack)", e))?;

        let old_mask =
            signal::set_mask(SigSet::ALL).map_err(|e| Error::syscall("rt_sigprocmask", e))?;
        let child_mask = self.signal_mask.unwrap_or(old_mask);
        let report = Reporter(report_w.raw());
        let vfork = self.vfork;
        let defaults = self.signal_defaults;
        let mut child = || -> i32 {
            if let Some((go_r, go_w)) = &hold {
                // Close our copy of the write end, so that the parent's
                // death reads as end-of-file instead of waiting forever.
                sys::close(go_w.raw());
                if sys::read(go_r.raw(), &mut [0u8]) != Ok(1) {
                    return report.step(Step::Hold, Errno::EPIPE);
                }
            }
            if let Some(name) = hostname {
                match namespace::uts_of_self() {
                    Ok(uts) if Some(uts) != parent_uts => {}
                    Ok(_) => return report.step(Step::SameUtsNamespace, Errno::EPERM),
                    Err(errno) => return report.step(Step::SameUtsNamespace, errno),
                }
                if let Err(errno) = sys::sethostname(name) {
                    return report.step(Step::Sethostname, errno);
                }
            }
            if vfork {
                // The parent's handlers must not run in its own memory.
                if let Err(errno) = signal::reset_handlers() {
                    return report.step(Step::SignalHandlers, errno);
                }
            }
            // By default SIGPIPE, which Rust's runtime ignores in every Rust
            // program: an ignored signal stays ignored through exec.
            if let Err(errno) = signal::set_defaults(defaults) {
                return report.step(Step::SignalHandlers, errno);
            }
            if let Err(errno) = signal::set_mask(child_mask) {
                return report.step(Step::SignalMask, errno);
            }
            report.exec(plan.exec())
        };
        // SAFETY: the child closure only makes system calls from `sys` and
        // allocates nothing: everything it touches was prepared above. In
        // vfork style it writes into the parent's memory only its own stack,
        // the pipe's report (through the kernel) and, for ENOEXEC, one slot
        // of `plan`'s shell argv, which the parent never reads (see
        // `ExecPlan::exec`); no handler can run in it (reset above, signals
        // blocked until then).
        let cloned = unsafe { clone::clone(flags, &stack, &mut child) };

        // Parent only from here. Without CLONE_VM the child has its own copy
        // of the stack and of the pipe's write end: drop ours. With it, the
        // child has exec'd or exited by now (CLONE_VFORK), so the stack is
        // free; its descriptor table was still copied (no CLONE_FILES).
        let _ = signal::set_mask(old_mask);
        drop(stack);
        drop(report_w);
        let pid = cloned.map_err(|e| {
            let call = if vfork {
                "clone(CLONE_NEWUTS|CLONE_VM|CLONE_VFORK|SIGCHLD)"
            } else {
                "clone(CLONE_NEWUTS|SIGCHLD)"
            };
            Error::syscall(call, e)
        })?;
        if let (Some(before_exec), Some((_, go_w))) = (before_exec, hold) {
            before_exec(pid);
            // If this write fails the child reads end-of-file and reports it.
            let _ = sys::write(go_w.raw(), &[1]);
        }
        match read_report(&report_r) {
            None => Ok(Child { pid }),
            Some(report) => {
                // The child has exited or is about to: reap it.
                let _ = wait::wait(pid);
                Err(self.error_from(report, &plan))
            }
        }
    }

    /// Turn the child's report into an error that names the failed step.
    fn error_from(&self, report: Report, plan: &ExecPlan) -> Error {
        let errno = Errno::new(report.errno);
        match report.step {
            Step::Hold => Error::syscall("child: read(hold pipe)", errno),
            Step::SameUtsNamespace if errno == Errno::EPERM => Error::SameUtsNamespace,
            Step::SameUtsNamespace => Error::syscall("child: stat(\"/proc/self/ns/uts\")", errno),
            Step::Sethostname => Error::Sethostname {
                name: self
                    .hostname
                    .as_ref()
                    .map_or(vec![], |h| h.as_bytes().to_vec()),
                errno,
            },
            Step::SignalHandlers => Error::syscall("child: rt_sigaction(SIG_DFL)", errno),
            Step::SignalMask => Error::syscall("child: rt_sigprocmask", errno),
            Step::Exec => {
                let candidate = usize::try_from(report.candidate).ok();
                let path = candidate.and_then(|i| plan.candidate(i));
                Error::Exec {
                    program: plan.program().to_owned(),
                    path: path.map(|p| OsStr::from_bytes(p.to_bytes()).to_owned()),
                    failure: ExecFailure {
                        errno,
                        candidate,
                        interpreter_missing: report.interpreter_missing,
                    },
                }
            }
        }
    }
}

/// The child's steps that can fail, as reported over the pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
enum Step {
    Hold = 1,
    SameUtsNamespace = 2,
    Sethostname = 3,
    SignalMask = 4,
    Exec = 5,
    SignalHandlers = 6,
}

/// What the child reports when a step fails: 16 bytes, written at once
/// (less than PIPE_BUF, so the write is atomic).
#[derive(Clone, Copy, Debug)]
struct Report {
    step: Step,
    errno: i32,
    candidate: i32,
    interpreter_missing: bool,
}

impl Report {
    const SIZE: usize = 16;

    fn to_bytes(self) -> [u8; Report::SIZE] {
        let mut b = [0u8; Report::SIZE];
        b[0..4].copy_from_slice(&(self.step as u32).to_ne_bytes());
        b[4..8].copy_from_slice(&self.errno.to_ne_bytes());
        b[8..12].copy_from_slice(&self.candidate.to_ne_bytes());
        b[12] = self.interpreter_missing as u8;
        b
    }

    fn from_bytes(b: &[u8; Report::SIZE]) -> Option<Report> {
        let word = |i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().unwrap());
        let step = match word(0) {
            1 => Step::Hold,
            2 => Step::SameUtsNamespace,
            3 => Step::Sethostname,
            4 => Step::SignalMask,
            5 => Step::Exec,
            6 => Step::SignalHandlers,
            _ => return None,
        };
        Some(Report {
            step,
            errno: word(4) as i32,
            candidate: word(8) as i32,
            interpreter_missing: b[12] != 0,
        })
    }
}

/// The child's end of the report pipe.
struct Reporter(i32);

impl Reporter {
    /// Report a failed step; returns the child's exit code.
    fn step(&self, step: Step, errno: Errno) -> i32 {
        self.send(Report {
            step,
            errno: errno.into_raw(),
            candidate: -1,
            interpreter_missing: false,
        });
        EXIT_LAUNCHER
    }

    /// Report a failed exec; returns the child's exit code.
    fn exec(&self, failure: ExecFailure) -> i32 {
        self.send(Report {
            step: Step::Exec,
            errno: failure.errno.into_raw(),
            candidate: failure.candidate.map_or(-1, |i| i as i32),
            interpreter_missing: failure.interpreter_missing,
        });
        failure.exit_code()
    }

    fn send(&self, report: Report) {
        let _ = sys::write(self.0, &report.to_bytes());
    }
}

/// Read the child's report: `None` at end-of-file, which means the exec
/// succeeded and closed the pipe.
fn read_report(pipe: &Fd) -> Option<Report> {
    let mut buf = [0u8; Report::SIZE];
    match sys::read(pipe.raw(), &mut buf) {
        Ok(Report::SIZE) => Report::from_bytes(&buf),
        _ => None,
    }
}
