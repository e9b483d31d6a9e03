//! The whole launch, in order: what the parent prepares, what the child does.
//!
//! Parent, before clone (it may allocate):
//! 1. prepare the exec: argv, envp and every PATH candidate ([`ExecPlan`]);
//! 2. note the identity of its own UTS namespace;
//! 3. open a close-on-exec pipe on which the child reports a failure, and,
//!    if the child must wait for a go-ahead or watch for the parent's death,
//!    a second one whose write end only the parent keeps;
//! 4. map the child's stack with its guard page ([`Stack`]);
//! 5. block every signal, so that no handler of the caller can run in the
//!    child before exec.
//!
//! Then clone(`CLONE_NEWUTS | SIGCHLD`) ([`crate::clone`]). The child, which
//! may not allocate:
//! 1. with [`Command::parent_death_signal`], arms `PR_SET_PDEATHSIG`
//!    (prctl(2)), then makes sure its parent did not die before that;
//! 2. checks that its UTS namespace is not the parent's, then sets the
//!    hostname with sethostname(2);
//! 3. restores SIGPIPE's default action and the signal mask the command
//!    should start with;
//! 4. execs ([`ExecPlan::exec`]). On success the pipe closes by itself
//!    (`O_CLOEXEC`), and the parent reads end-of-file; on failure the child
//!    writes what failed into the pipe and exits with 125, 126 or 127.
//!
//! The parent, meanwhile, restores its mask, unmaps its copy of the stack,
//! and reads the pipe: end-of-file means the command runs.

use std::env;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use syscalls::Errno;

use crate::clone;
use crate::error::{EXIT_LAUNCHER, Error};
use crate::exec::{self, ExecFailure, ExecPlan};
use crate::namespace::{self, Hostname};
use crate::signal::{self, SigSet};
use crate::stack::Stack;
use crate::sys::{self, Fd, Pid};
use crate::wait::{self, WaitStatus};

/// The clone flags of every launch: a new UTS namespace, and SIGCHLD as the
/// exit signal, without which wait4 would not see the child (short of
/// `__WALL`).
pub const CLONE_FLAGS: u64 = libc::CLONE_NEWUTS as u64 | libc::SIGCHLD as u64;

/// A command to run in a new UTS namespace, like `std::process::Command`.
#[derive(Clone, Debug)]
pub struct Command {
    program: OsString,
    args: Vec<OsString>,
    hostname: Option<Hostname>,
    signal_mask: Option<SigSet>,
    pdeathsig: Option<i32>,
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
            pdeathsig: None,
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

    /// Have the kernel send `sig` to the child when the thread that spawned
    /// it exits, or the whole process dies, even by SIGKILL (prctl(2)
    /// `PR_SET_PDEATHSIG`; `unshare --kill-child`).
    ///
    /// The child arms it before exec, then checks that its parent is still
    /// there: a parent that died before the signal was armed would never
    /// send it, so the child then exits with 125 instead of running the
    /// command. Two witnesses tell it: getppid(2), which changes as soon as
    /// the kernel reparents the child (and sends the armed signal), but reads
    /// 0 when the parent is in another PID namespace; and a pipe whose write
    /// end only the parent keeps, which hangs up when the parent's last
    /// thread has closed its descriptors, just before the kernel reparents
    /// its children. Together they close the race, except for a
    /// multi-threaded parent outside the child's PID namespace: there the
    /// reparenting may come before the hang-up, in the instant between the
    /// exits of its threads.
    ///
    /// Caveats, from the kernel: the signal follows the spawning *thread*,
    /// so spawn from a thread that outlives the child; it is cleared when
    /// the command execs a set-user-ID program or changes its credentials.
    pub fn parent_death_signal(&mut self, sig: i32) -> &mut Command {
        self.pdeathsig = Some(sig);
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
    pub fn spawn_with(&self, before_exec: impl FnOnce(Pid)) -> Result<Child, Error> {
        self.spawn_inner(Some(Box::new(before_exec)))
    }

    fn spawn_inner(&self, before_exec: Option<Box<dyn FnOnce(Pid) + '_>>) -> Result<Child, Error> {
        let path = env::var_os("PATH");
        let mut plan = ExecPlan::new(&self.program, &self.args, env::vars_os(), path.as_deref())
            .map_err(|e| Error::Nul(e.0))?;
        let parent_uts = namespace::uts_of_self()
            .map_err(|e| Error::syscall("stat(\"/proc/self/ns/uts\")", e))?;
        let (report_r, report_w) = sys::pipe_cloexec().map_err(|e| Error::syscall("pipe2", e))?;
        // The parent pipe: the child reads the go-ahead on it (`spawn_with`)
        // or polls it to learn that the parent is still alive
        // (`parent_death_signal`). Only the parent keeps its write end.
        let hold = before_exec.is_some();
        let parent_pipe = match hold || self.pdeathsig.is_some() {
            true => Some(sys::pipe_cloexec().map_err(|e| Error::syscall("pipe2", e))?),
            false => None,
        };
        let stack = Stack::new().map_err(|e| Error::syscall("mmap(child stack)", e))?;
        let hostname = self.hostname.as_ref().map(Hostname::as_bytes);
        let pdeathsig = self.pdeathsig;
        let parent = sys::getpid();

        let old_mask =
            signal::set_mask(SigSet::ALL).map_err(|e| Error::syscall("rt_sigprocmask", e))?;
        let child_mask = self.signal_mask.unwrap_or(old_mask);
        let report = Reporter(report_w.raw());
        let mut child = || -> i32 {
            if let Some(sig) = pdeathsig {
                if let Err(errno) = sys::set_pdeathsig(sig) {
                    return report.step(Step::ParentDeathSignal, errno);
                }
            }
            if let Some((parent_r, parent_w)) = &parent_pipe {
                // Close our copy of the write end, so that the parent's
                // death reads as end-of-file (or a hang-up) on the read end.
                sys::close(parent_w.raw());
                if hold && sys::read(parent_r.raw(), &mut [0u8]) != Ok(1) {
                    return report.step(Step::Hold, Errno::EPIPE);
                }
                if pdeathsig.is_some() {
                    match parent_alive(parent, parent_r) {
                        Ok(true) => {}
                        // The parent died before the death signal was armed,
                        // so it will never come. Nobody is left to read a
                        // report.
                        Ok(false) => return EXIT_LAUNCHER,
                        Err(errno) => return report.step(Step::ParentCheck, errno),
                    }
                }
            }
            if let Some(name) = hostname {
                match namespace::uts_of_self() {
                    Ok(uts) if uts != parent_uts => {}
                    Ok(_) => return report.step(Step::SameUtsNamespace, Errno::EPERM),
                    Err(errno) => return report.step(Step::SameUtsNamespace, errno),
                }
                if let Err(errno) = sys::sethostname(name) {
                    return report.step(Step::Sethostname, errno);
                }
            }
            // Rust's runtime ignores SIGPIPE in every Rust program, and an
            // ignored signal stays ignored through exec: give it back its
            // default action, as std::process::Command does.
            if let Err(errno) = sys::sigaction_default(libc::SIGPIPE) {
                return report.step(Step::SigpipeDefault, errno);
            }
            if let Err(errno) = signal::set_mask(child_mask) {
                return report.step(Step::SignalMask, errno);
            }
            report.exec(plan.exec())
        };
        // SAFETY: the child closure only makes system calls from `sys` and
        // allocates nothing: everything it touches was prepared above.
        let cloned = unsafe { clone::clone(CLONE_FLAGS, &stack, &mut child) };

        // Parent only from here. Without CLONE_VM the child has its own copy
        // of the stack and of the pipe's write end: drop ours.
        let _ = signal::set_mask(old_mask);
        drop(stack);
        drop(report_w);
        let pid = cloned.map_err(|e| Error::syscall("clone(CLONE_NEWUTS|SIGCHLD)", e))?;
        if let (Some(before_exec), Some((_, go_w))) = (before_exec, &parent_pipe) {
            before_exec(pid);
            // If this write fails the child reads end-of-file and reports it.
            let _ = sys::write(go_w.raw(), &[1]);
        }
        // The parent pipe stays open until the report is read: by then the
        // child has exec'd or failed, and is past its checks.
        let report = read_report(&report_r);
        drop(parent_pipe);
        match report {
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
            Step::ParentDeathSignal => Error::syscall("child: prctl(PR_SET_PDEATHSIG)", errno),
            Step::SameUtsNamespace if errno == Errno::EPERM => Error::SameUtsNamespace,
            Step::SameUtsNamespace => Error::syscall("child: stat(\"/proc/self/ns/uts\")", errno),
            Step::Sethostname => Error::Sethostname {
                name: self
                    .hostname
                    .as_ref()
                    .map_or(vec![], |h| h.as_bytes().to_vec()),
                errno,
            },
            Step::SignalMask => Error::syscall("child: rt_sigprocmask", errno),
            Step::SigpipeDefault => Error::syscall("child: rt_sigaction(SIGPIPE, SIG_DFL)", errno),
            Step::ParentCheck => Error::syscall("child: ppoll(parent pipe)", errno),
            Step::Exec => {
                let candidate = usize::try_from(report.candidate).ok();
                let path = candidate.and_then(|i| plan.candidate(i));
                let path = path.map(|p| OsStr::from_bytes(p.to_bytes()).to_owned());
                let failure = ExecFailure {
                    errno,
                    candidate,
                    interpreter_missing: report.interpreter_missing,
                };
                Error::Exec {
                    program: plan.program().to_owned(),
                    reason: path.as_deref().and_then(|p| exec::explain(p, &failure)),
                    path,
                    failure,
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
    ParentDeathSignal = 6,
    SigpipeDefault = 7,
    ParentCheck = 8,
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
            6 => Step::ParentDeathSignal,
            7 => Step::SigpipeDefault,
            8 => Step::ParentCheck,
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

/// In the child, once the parent-death signal is armed: is the parent, the
/// process `parent`, still alive? See [`Command::parent_death_signal`] for
/// why it takes two witnesses.
fn parent_alive(parent: Pid, pipe: &Fd) -> Result<bool, Errno> {
    let ppid = sys::getppid();
    if ppid != parent && ppid != 0 {
        return Ok(false);
    }
    // A pipe whose write ends are all closed polls as hung up (POLLHUP).
    let mut fds = [libc::pollfd {
        fd: pipe.raw(),
        events: libc::POLLIN,
        revents: 0,
    }];
    sys::poll_now(&mut fds)?;
    Ok(fds[0].revents & libc::POLLHUP == 0)
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
