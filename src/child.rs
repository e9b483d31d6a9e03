//! The child, between clone and exec: its steps, in order, and how it tells
//! the parent which one failed.
//!
//! The child runs on the stack the parent mapped, in its new namespaces, and
//! may not allocate, lock or use std's I/O (see [`crate::clone`]). Everything
//! it needs was prepared by the parent and is only read here; every step is
//! one or two calls from [`crate::sys`]. In order:
//!
//! 1. with a parent-death signal, arm it with prctl(2) `PR_SET_PDEATHSIG`;
//!    if held, wait until the parent writes a byte on the hold pipe (the
//!    parent writes the id maps meanwhile); with a parent-death signal, make
//!    sure the parent did not die before it was armed;
//! 2. with a user namespace and a time namespace: unshare the time
//!    namespace and write its offsets ([`crate::namespace::time`]);
//! 3. check that the UTS namespace is not the parent's, then set the
//!    hostname with sethostname(2);
//! 4. mount namespace: check it is not the parent's, make `/` recursively
//!    private, and with `--mount-proc` mount a fresh `/proc`
//!    ([`crate::namespace::mount`]);
//! 5. network namespace: check it is not the parent's, bring `lo` up
//!    ([`crate::namespace::net`]);
//! 6. in vfork style, set every signal that has a handler back to the
//!    default; restore SIGPIPE's default action (unless told otherwise), the
//!    signals the caller ignored (SIGCHLD for the nsclone command) and the
//!    signal mask the command should start with;
//! 7. exec ([`crate::exec::ExecPlan::exec`]).
//!
//! A failed step is written as a 12-byte report (the step, the errno, the
//! exec candidate) into a close-on-exec pipe, and the child exits with 125,
//! 126 or 127. A successful exec closes that pipe by itself, so the parent
//! reads end-of-file: the command runs.

use syscalls::Errno;

use crate::error::{EXIT_LAUNCHER, Error};
use crate::exec::ExecFailure;
use crate::namespace::{self, Namespace, NsId, mount, net, time};
use crate::signal::{self, SigSet};
use crate::sys::{self, Fd, Pid};

/// A pipe that holds the child between clone and its first step, until the
/// parent has done its own steps: the child blocks reading one byte.
///
/// The parent writes the byte with [`Hold::release`]. If the parent dies
/// first, its write end closes and the child reads end-of-file instead, and
/// gives up rather than go on unprepared. (A vfork-style launch cannot hold
/// its child: the parent sleeps until the child has exec'd.)
///
/// Since only the parent keeps the write end, the pipe also tells a child
/// with a parent-death signal whether the parent still lives
/// ([`Hold::parent_alive`]); the parent then keeps it open until the child
/// has exec'd.
pub(crate) struct Hold {
    read: Fd,
    write: Fd,
}

impl Hold {
    pub(crate) fn new() -> Result<Hold, Error> {
        let (read, write) = sys::pipe_cloexec().map_err(|e| Error::syscall("pipe2", e))?;
        Ok(Hold { read, write })
    }

    /// In the child, first: close our copy of the write end, so that the
    /// parent's death reads as end-of-file (or a hang-up) on the read end
    /// instead of waiting forever.
    fn close_write_end(&self) {
        sys::close(self.write.raw());
    }

    /// In the child: wait for the parent's byte.
    fn wait(&self) -> Result<(), Errno> {
        match sys::read(self.read.raw(), &mut [0u8]) {
            Ok(1) => Ok(()),
            Ok(_) => Err(Errno::EPIPE),
            Err(errno) => Err(errno),
        }
    }

    /// In the child, once the parent-death signal is armed: is the parent,
    /// the process `parent`, still alive? See
    /// [`Command::parent_death_signal`] for why it takes two witnesses.
    fn parent_alive(&self, parent: Pid) -> Result<bool, Errno> {
        let ppid = sys::getppid();
        if ppid != parent && ppid != 0 {
            return Ok(false);
        }
        // A pipe whose write ends are all closed polls as hung up.
        let mut fds = [libc::pollfd {
            fd: self.read.raw(),
            events: libc::POLLIN,
            revents: 0,
        }];
        sys::poll_now(&mut fds)?;
        Ok(fds[0].revents & libc::POLLHUP == 0)
    }

    /// In the parent: let the child go on.
    pub(crate) fn release(&self) {
        // If this write fails the child reads end-of-file and reports it.
        let _ = sys::write(self.write.raw(), &[1]);
    }
}

/// Everything the child does between clone and exec, and everything it
/// needs for it, prepared by the parent: the child only reads these fields
/// and makes system calls, so it allocates nothing.
pub(crate) struct ChildSteps<'a> {
    /// With a parent-death signal: the signal, and the parent's pid.
    pub(crate) pdeathsig: Option<(i32, Pid)>,
    /// Whether the child waits on the hold pipe for the parent's byte.
    pub(crate) held: bool,
    /// With a user namespace: the offsets of the time namespace the child
    /// creates itself (possibly empty).
    pub(crate) child_time: Option<&'a [u8]>,
    /// The pipe to wait on, when the parent has steps of its own, and to
    /// watch for the parent's death with a parent-death signal.
    pub(crate) hold: Option<&'a Hold>,
    /// The hostname to set, and the parent's UTS namespace, checked first.
    pub(crate) hostname: Option<(&'a [u8], NsId)>,
    /// The parent's mount namespace, when the child has a new one.
    pub(crate) parent_mnt: Option<NsId>,
    pub(crate) mount_proc: bool,
    /// The parent's network namespace, when the child has a new one.
    pub(crate) parent_net: Option<NsId>,
    /// Vfork style: set every handled signal back to the default, since a
    /// handler of the parent would run in the parent's own memory.
    pub(crate) reset_handlers: bool,
    /// The signals set back to the default whatever they were.
    pub(crate) defaults: SigSet,
    /// The signals set to "ignored", as the caller had them.
    pub(crate) ignores: SigSet,
    /// The signal mask the command starts with.
    pub(crate) mask: SigSet,
}

/// A failed step and what the kernel answered.
pub(crate) type Failed = (Step, Errno);

/// Tag an errno with the step it came from.
fn at(step: Step) -> impl Fn(Errno) -> Failed {
    move |errno| (step, errno)
}

/// Fail with `step` unless the caller's namespace of type `kind` differs
/// from the parent's `id`.
fn check_new(kind: Namespace, id: NsId, step: Step) -> Result<(), Failed> {
    match namespace::is_same(kind, id) {
        Ok(false) => Ok(()),
        Ok(true) => Err((step, Errno::EPERM)),
        Err(errno) => Err((step, errno)),
    }
}

impl ChildSteps<'_> {
    /// Run in the child, in the order the module documentation gives.
    pub(crate) fn run(&self) -> Result<(), Failed> {
        // Armed first, so that the parent's death at any later moment, the
        // hold included, sends it.
        if let Some((sig, _)) = self.pdeathsig {
            sys::set_pdeathsig(sig).map_err(at(Step::ParentDeathSignal))?;
        }
        if let Some(hold) = self.hold {
            hold.close_write_end();
            if self.held {
                hold.wait().map_err(at(Step::Hold))?;
            }
            if let Some((_, parent)) = self.pdeathsig {
                // A parent that died before the signal was armed will never
                // send it: do not run the command. (Nobody will read the
                // report.)
                if !hold.parent_alive(parent).map_err(at(Step::ParentCheck))? {
                    return Err((Step::ParentGone, Errno::ESRCH));
                }
            }
        }
        if let Some(offsets) = self.child_time {
            sys::unshare(libc::CLONE_NEWTIME).map_err(at(Step::UnshareTime))?;
            if !offsets.is_empty() {
                time::write_offsets(offsets).map_err(at(Step::TimeOffsets))?;
            }
        }
        if let Some((name, parent_uts)) = self.hostname {
            check_new(Namespace::Uts, parent_uts, Step::SameUtsNamespace)?;
            sys::sethostname(name).map_err(at(Step::Sethostname))?;
        }
        if let Some(parent_mnt) = self.parent_mnt {
            check_new(Namespace::Mount, parent_mnt, Step::SameMountNamespace)?;
            mount::make_private().map_err(at(Step::MakePrivate))?;
            if self.mount_proc {
                mount::mount_proc().map_err(at(Step::MountProc))?;
            }
        }
        if let Some(parent_net) = self.parent_net {
            check_new(Namespace::Net, parent_net, Step::SameNetNamespace)?;
            let socket = net::socket().map_err(at(Step::LoopbackSocket))?;
            let lo = net::flags(&socket).map_err(at(Step::LoopbackFlags))?;
            net::bring_up(&socket, lo).map_err(at(Step::LoopbackUp))?;
        }
        if self.reset_handlers {
            signal::reset_handlers().map_err(at(Step::SignalDefaults))?;
        }
        // By default SIGPIPE, which Rust's runtime ignores in every Rust
        // program: an ignored signal stays ignored through exec.
        signal::set_defaults(self.defaults).map_err(at(Step::SignalDefaults))?;
        signal::set_ignored(self.ignores).map_err(at(Step::SignalDefaults))?;
        signal::set_mask(self.mask).map_err(at(Step::SignalMask))?;
        Ok(())
    }
}

/// The child's steps that can fail, as reported over the pipe, in the
/// order the child takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Step {
    ParentDeathSignal = 1,
    Hold,
    ParentCheck,
    ParentGone,
    UnshareTime,
    TimeOffsets,
    SameUtsNamespace,
    Sethostname,
    SameMountNamespace,
    MakePrivate,
    MountProc,
    SameNetNamespace,
    LoopbackSocket,
    LoopbackFlags,
    LoopbackUp,
    SignalDefaults,
    SignalMask,
    Exec,
}

impl Step {
    const ALL: [Step; 18] = [
        Step::ParentDeathSignal,
        Step::Hold,
        Step::ParentCheck,
        Step::ParentGone,
        Step::UnshareTime,
        Step::TimeOffsets,
        Step::SameUtsNamespace,
        Step::Sethostname,
        Step::SameMountNamespace,
        Step::MakePrivate,
        Step::MountProc,
        Step::SameNetNamespace,
        Step::LoopbackSocket,
        Step::LoopbackFlags,
        Step::LoopbackUp,
        Step::SignalDefaults,
        Step::SignalMask,
        Step::Exec,
    ];

    fn from_u32(word: u32) -> Option<Step> {
        Step::ALL.into_iter().find(|&step| step as u32 == word)
    }
}

/// What the child reports when a step fails: 12 bytes, written at once
/// (less than PIPE_BUF, so the write is atomic).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Report {
    pub(crate) step: Step,
    pub(crate) errno: i32,
    pub(crate) candidate: i32,
}

impl Report {
    const SIZE: usize = 12;

    fn to_bytes(self) -> [u8; Report::SIZE] {
        let mut b = [0u8; Report::SIZE];
        b[0..4].copy_from_slice(&(self.step as u32).to_ne_bytes());
        b[4..8].copy_from_slice(&self.errno.to_ne_bytes());
        b[8..12].copy_from_slice(&self.candidate.to_ne_bytes());
        b
    }

    fn from_bytes(b: &[u8; Report::SIZE]) -> Option<Report> {
        let word = |i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().unwrap());
        let step = Step::from_u32(word(0))?;
        Some(Report {
            step,
            errno: word(4) as i32,
            candidate: word(8) as i32,
        })
    }
}

/// The child's end of the report pipe.
pub(crate) struct Reporter(pub(crate) i32);

impl Reporter {
    /// Report a failed step; returns the child's exit code.
    pub(crate) fn step(&self, step: Step, errno: Errno) -> i32 {
        self.send(Report {
            step,
            errno: errno.into_raw(),
            candidate: -1,
        });
        EXIT_LAUNCHER
    }

    /// Report a failed exec; returns the child's exit code.
    pub(crate) fn exec(&self, failure: ExecFailure) -> i32 {
        self.send(Report {
            step: Step::Exec,
            errno: failure.errno.into_raw(),
            candidate: failure.candidate.map_or(-1, |i| i as i32),
        });
        failure.exit_code()
    }

    fn send(&self, report: Report) {
        let _ = sys::write(self.0, &report.to_bytes());
    }
}

/// Read the child's report: `None` at end-of-file, which means the exec
/// succeeded and closed the pipe.
pub(crate) fn read_report(pipe: &Fd) -> Option<Report> {
    let mut buf = [0u8; Report::SIZE];
    match sys::read(pipe.raw(), &mut buf) {
        Ok(Report::SIZE) => Report::from_bytes(&buf),
        _ => None,
    }
}
