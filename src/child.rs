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
//! 6. with a new root: bind it onto itself, mount its `/proc` for a new PID
//!    namespace, pivot_root(2) into it and detach the old root
//!    ([`crate::namespace::root`]); last of the namespace steps, since the
//!    checks above read the host's `/proc`;
//! 7. signals: in vfork style, set every signal that has a handler back to
//!    the default; then the defaults and "ignored" the caller asked for,
//!    and the signal mask the command should start with;
//! 8. exec, searching `PATH` ([`crate::exec::ExecPlan::exec`]), inside the
//!    new root if there is one.
//!
//! A failed step is written as a [`Report`] into a close-on-exec pipe, and
//! the child exits with 125, 126 or 127. A successful exec closes that pipe
//! by itself, so the parent reads end-of-file: the command runs.

use syscalls::Errno;

use crate::exec::{Diagnosis, ExecFailure, ExecPlan, Head};
use crate::namespace::root::{self, NewRoot};
use crate::namespace::{Hostname, Namespace, NsId, mount, net, time};
use crate::signal::{Disposition, SIGNAL_MAX, SigSet};
use crate::sys::{self, Fd, Pid};
use crate::wait::EXIT_LAUNCHER;

/// The hold pipe: it holds the child between clone and its first step,
/// until the parent has done its own steps; the child blocks reading one
/// byte.
///
/// The parent writes the byte with [`Hold::release`]. If the parent dies
/// first, its write end closes and the child reads end-of-file instead, and
/// gives up rather than go on unprepared. (A vfork-style launch cannot hold
/// its child: the parent sleeps until the child has exec'd.)
///
/// Since only the parent keeps the write end, the pipe also tells a child
/// with a parent-death signal whether the parent still lives
/// (`Hold::parent_alive`); the parent then keeps it open until the child
/// has exec'd.
pub struct Hold {
    read: Fd,
    write: Fd,
}

impl Hold {
    /// A new hold pipe.
    pub fn new() -> Result<Hold, Errno> {
        let why = "the hold pipe: the child waits on it while the parent works";
        let (read, write) = sys::pipe_cloexec(why)?;
        Ok(Hold { read, write })
    }

    /// In the child, first: close our copy of the write end, so that the
    /// parent's death reads as end-of-file (or a hang-up) on the read end
    /// instead of waiting forever.
    fn close_write_end(&self) {
        sys::close(self.write.raw());
    }

    /// In the child: wait for the parent's byte.
    fn wait(&self) -> Result<(), Option<Errno>> {
        match sys::read(self.read.raw(), &mut [0u8]) {
            Ok(1) => Ok(()),
            Ok(_) => Err(None),
            Err(errno) => Err(Some(errno)),
        }
    }

    /// In the child, once the parent-death signal is armed: is the parent,
    /// the process `parent`, still alive? See
    /// [`crate::Command::parent_death_signal`] for why it takes two
    /// witnesses.
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
        let why = "POLLHUP would mean every write end is closed: the parent is gone";
        sys::poll_now(&mut fds, why)?;
        Ok(fds[0].revents & libc::POLLHUP == 0)
    }

    /// In the parent: let the child go on.
    pub fn release(&self) {
        // If this write fails the child reads end-of-file and reports it.
        let _ = sys::write(self.write.raw(), &[1]);
    }
}

/// Everything the child does between clone and exec, and everything it
/// needs for it, prepared by the parent: the child only reads these fields
/// and makes system calls, so it allocates nothing.
pub struct ChildSteps<'a> {
    /// With a parent-death signal: the signal, and the parent's pid.
    pub pdeathsig: Option<(i32, Pid)>,
    /// Whether the child waits on the hold pipe for the parent's byte.
    pub held: bool,
    /// The hold pipe, when the parent has steps of its own, or to watch for
    /// the parent's death with a parent-death signal.
    pub hold: Option<&'a Hold>,
    /// With a user namespace: the offsets of the time namespace the child
    /// creates itself (possibly empty).
    pub child_time: Option<&'a [u8]>,
    /// The hostname to set, and the parent's UTS namespace, checked first.
    pub hostname: Option<(&'a Hostname, NsId)>,
    /// The parent's mount namespace, when the child has a new one.
    pub parent_mnt: Option<NsId>,
    /// Whether to mount a fresh `/proc` on the host's `/proc` (without a
    /// new root; with one, [`NewRoot::proc`] says).
    pub mount_proc: bool,
    /// The parent's network namespace, when the child has a new one.
    pub parent_net: Option<NsId>,
    /// The directory to make the root, with pivot_root(2).
    pub root: Option<NewRoot<'a>>,
    /// Vfork style: set every handled signal back to the default, since a
    /// handler of the parent would run in the parent's own memory.
    pub reset_handlers: bool,
    /// The signals set back to the default whatever they were.
    pub defaults: SigSet,
    /// The signals set to "ignored", as the caller had them.
    pub ignores: SigSet,
    /// The signal mask the command starts with.
    pub mask: SigSet,
}

/// A failed step, and what the kernel answered (nothing, for a step that
/// fails by a check of the child's own).
pub type Failed = (ChildStep, Option<Errno>);

/// Tag an errno with the step it came from.
fn at(step: ChildStep) -> impl Fn(Errno) -> Failed {
    move |errno| (step, Some(errno))
}

/// Fail unless the caller's namespace of type `kind` differs from the
/// parent's `parent`: `identity` if it cannot be told, `not_new` if it is
/// the same.
fn check_new(
    kind: Namespace,
    parent: NsId,
    identity: ChildStep,
    not_new: ChildStep,
) -> Result<(), Failed> {
    match NsId::of_self(kind) {
        Ok(own) if own != parent => Ok(()),
        Ok(_) => Err((not_new, None)),
        Err(errno) => Err((identity, Some(errno))),
    }
}

impl ChildSteps<'_> {
    /// Run in the child, in the order the module documentation gives, up
    /// to the exec: returns only if a step failed, with the code to exit
    /// with, after reporting it on `report`.
    pub fn run(&self, plan: &mut ExecPlan<'_>, report: &Fd) -> i32 {
        match self.prepare() {
            Ok(()) => {
                let failure = plan.exec();
                Report::Exec(failure).send(report);
                failure.exit_code()
            }
            Err((step, errno)) => {
                Report::Step(step, errno).send(report);
                EXIT_LAUNCHER
            }
        }
    }

    /// Steps 1 to 7.
    fn prepare(&self) -> Result<(), Failed> {
        // Armed first, so that the parent's death at any later moment, the
        // hold included, sends it.
        if let Some((sig, _)) = self.pdeathsig {
            sys::set_pdeathsig(sig).map_err(at(ChildStep::ParentDeathSignal))?;
        }
        if let Some(hold) = self.hold {
            hold.close_write_end();
            if self.held {
                hold.wait().map_err(|errno| (ChildStep::Hold, errno))?;
            }
            if let Some((_, parent)) = self.pdeathsig {
                // A parent that died before the signal was armed will never
                // send it: do not run the command. (Nobody will read the
                // report.)
                if !hold
                    .parent_alive(parent)
                    .map_err(at(ChildStep::ParentCheck))?
                {
                    return Err((ChildStep::ParentGone, None));
                }
            }
        }
        if let Some(offsets) = self.child_time {
            sys::unshare(libc::CLONE_NEWTIME).map_err(at(ChildStep::UnshareTime))?;
            if !offsets.is_empty() {
                time::write_offsets(offsets).map_err(at(ChildStep::TimeOffsets))?;
            }
        }
        if let Some((name, parent_uts)) = self.hostname {
            check_new(
                Namespace::Uts,
                parent_uts,
                ChildStep::UtsIdentity,
                ChildStep::UtsNotNew,
            )?;
            sys::sethostname(name.as_bytes()).map_err(at(ChildStep::Sethostname))?;
        }
        if let Some(parent_mnt) = self.parent_mnt {
            let (identity, not_new) = (ChildStep::MntIdentity, ChildStep::MntNotNew);
            check_new(Namespace::Mount, parent_mnt, identity, not_new)?;
            mount::make_private().map_err(at(ChildStep::MakePrivate))?;
            if self.mount_proc {
                mount::mount_proc().map_err(at(ChildStep::MountProc))?;
            }
        }
        if let Some(parent_net) = self.parent_net {
            let (identity, not_new) = (ChildStep::NetIdentity, ChildStep::NetNotNew);
            check_new(Namespace::Net, parent_net, identity, not_new)?;
            let socket = net::socket().map_err(at(ChildStep::LoopbackSocket))?;
            let lo = net::flags(&socket).map_err(at(ChildStep::LoopbackFlags))?;
            net::bring_up(&socket, lo).map_err(at(ChildStep::LoopbackUp))?;
        }
        if let Some(new_root) = self.root {
            new_root
                .enter()
                .map_err(|(step, errno)| (ChildStep::from(step), Some(errno)))?;
        }
        if self.reset_handlers {
            reset_handlers().map_err(at(ChildStep::SignalDefaults))?;
        }
        for sig in (1..=SIGNAL_MAX).filter(|&sig| self.defaults.contains(sig)) {
            sys::sigaction_default(sig).map_err(at(ChildStep::SignalDefaults))?;
        }
        for sig in (1..=SIGNAL_MAX).filter(|&sig| self.ignores.contains(sig)) {
            sys::sigaction_ignore(sig).map_err(at(ChildStep::SignalDefaults))?;
        }
        sys::sigprocmask(libc::SIG_SETMASK, self.mask).map_err(at(ChildStep::SignalMask))?;
        Ok(())
    }
}

/// Set every signal that has a handler back to its default action, leaving
/// ignored ones ignored, as posix_spawn(3) does in its child.
///
/// For a child that shares its parent's memory (`CLONE_VM`): a handler is
/// the parent's code, and run in the child it would change the parent's
/// memory behind its back. Exec would reset handlers anyway; this closes the
/// window between restoring the mask and exec. It makes one rt_sigaction(2)
/// read per signal, plus one write per handler found: a few microseconds.
pub fn reset_handlers() -> Result<(), Errno> {
    for sig in 1..=SIGNAL_MAX {
        if sys::sigaction_disposition(sig)? == Disposition::Handler {
            sys::sigaction_default(sig)?;
        }
    }
    Ok(())
}

/// Declare the child's steps once: the enum, its list, and the call each
/// names in messages. A report carries the step as its index in the list.
macro_rules! steps {
    ($($(#[$doc:meta])* $name:ident => $call:literal,)*) => {
        /// The child's steps that can fail, in the order it takes them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ChildStep {
            $($(#[$doc])* $name,)*
        }

        impl ChildStep {
            const ALL: &[ChildStep] = &[$(ChildStep::$name,)*];

            /// The call that failed, as messages name it.
            pub const fn call(self) -> &'static str {
                match self {
                    $(ChildStep::$name => $call,)*
                }
            }
        }
    };
}

steps! {
    /// prctl(2) `PR_SET_PDEATHSIG`.
    ParentDeathSignal => "prctl(PR_SET_PDEATHSIG)",
    /// Reading the parent's byte on the hold pipe.
    Hold => "read(hold pipe)",
    /// Polling the hold pipe to see whether the parent lives.
    ParentCheck => "ppoll(hold pipe)",
    /// The parent died before the parent-death signal was armed.
    ParentGone => "getppid",
    /// The child's own unshare(CLONE_NEWTIME), with a user namespace.
    UnshareTime => "unshare(CLONE_NEWTIME)",
    /// Writing `/proc/self/timens_offsets`.
    TimeOffsets => "write(\"/proc/self/timens_offsets\")",
    /// Looking up the child's UTS namespace.
    UtsIdentity => "newfstatat(\"/proc/self/ns/uts\")",
    /// The UTS namespace is the parent's.
    UtsNotNew => "the uts namespace check",
    /// sethostname(2).
    Sethostname => "sethostname",
    /// Looking up the child's mount namespace.
    MntIdentity => "newfstatat(\"/proc/self/ns/mnt\")",
    /// The mount namespace is the parent's.
    MntNotNew => "the mnt namespace check",
    /// Making `/` recursively private.
    MakePrivate => "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)",
    /// Mounting a fresh `/proc`.
    MountProc => "mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)",
    /// Looking up the child's network namespace.
    NetIdentity => "newfstatat(\"/proc/self/ns/net\")",
    /// The network namespace is the parent's.
    NetNotNew => "the net namespace check",
    /// A socket to talk to the network stack.
    LoopbackSocket => "socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, 0)",
    /// Reading `lo`'s flags.
    LoopbackFlags => "ioctl(SIOCGIFFLAGS, \"lo\")",
    /// Bringing `lo` up.
    LoopbackUp => "ioctl(SIOCSIFFLAGS, \"lo\", flags|IFF_UP)",
    /// Binding the new root onto itself.
    RootBind => "mount(DIR, DIR, NULL, MS_BIND|MS_REC, NULL)",
    /// Mounting proc in the new root.
    RootProc => "mount(\"proc\", \"DIR/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)",
    /// Changing into the new root.
    RootChdir => "chdir(DIR)",
    /// pivot_root(2).
    PivotRoot => "pivot_root(\".\", \".\")",
    /// Detaching the old root.
    RootDetach => "umount2(\".\", MNT_DETACH)",
    /// Changing to the new `/`.
    RootChdirSlash => "chdir(\"/\")",
    /// Setting signal actions.
    SignalDefaults => "rt_sigaction",
    /// Setting the command's signal mask.
    SignalMask => "rt_sigprocmask",
    /// The exec itself.
    Exec => "execve",
}

impl From<root::Step> for ChildStep {
    fn from(step: root::Step) -> ChildStep {
        match step {
            root::Step::Bind => ChildStep::RootBind,
            root::Step::MountProc => ChildStep::RootProc,
            root::Step::Chdir => ChildStep::RootChdir,
            root::Step::PivotRoot => ChildStep::PivotRoot,
            root::Step::Detach => ChildStep::RootDetach,
            root::Step::ChdirRoot => ChildStep::RootChdirSlash,
        }
    }
}

impl ChildStep {
    /// The step of [`NewRoot::enter`] this is, if it is one.
    pub fn root(self) -> Option<root::Step> {
        root::Step::ALL
            .into_iter()
            .find(|&step| ChildStep::from(step) == self)
    }

    /// The namespace a `*NotNew` step found to be the parent's.
    pub fn not_new(self) -> Option<Namespace> {
        match self {
            ChildStep::UtsNotNew => Some(Namespace::Uts),
            ChildStep::MntNotNew => Some(Namespace::Mount),
            ChildStep::NetNotNew => Some(Namespace::Net),
            _ => None,
        }
    }
}

/// What the child reports when a step fails, written at once with one
/// write(2): less than `PIPE_BUF` bytes, so the write is atomic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// A step before the exec failed, with what the kernel answered (if a
    /// call failed).
    Step(ChildStep, Option<Errno>),
    /// The exec failed ([`ChildStep::Exec`]).
    Exec(ExecFailure),
}

/// Why a report could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportError {
    /// read(2) failed.
    Read(Errno),
    /// Fewer bytes than a report, or a report that names no step.
    Garbled(usize),
}

/// The words of a report: step, errno, then for an exec the candidate and
/// the diagnosis (kind, mode, uid, noexec, length of the head), then the
/// head's bytes.
const WORDS: usize = 8;
const SIZE: usize = WORDS * 4 + Head::SIZE;
const _: () = assert!(SIZE <= libc::PIPE_BUF, "one write(2), atomic");

impl Report {
    fn to_bytes(self) -> [u8; SIZE] {
        let (step, errno, exec) = match self {
            Report::Step(step, errno) => (step, errno, None),
            Report::Exec(failure) => (ChildStep::Exec, Some(failure.errno), Some(failure)),
        };
        let index = ChildStep::ALL.iter().position(|&s| s == step);
        let (mut kind, mut mode, mut uid, mut noexec) = (0, 0, 0, 0);
        let mut head = Head {
            len: 0,
            bytes: [0; Head::SIZE],
        };
        let candidate = exec.and_then(|e| e.candidate).map_or(-1, |c| c as i32);
        match exec.map(|e| e.diagnosis) {
            Some(Diagnosis::InterpreterMissing(h)) => (kind, head) = (1, h),
            Some(Diagnosis::Denied {
                mode: m,
                uid: u,
                noexec: n,
            }) => (kind, mode, uid, noexec) = (2, m, u, n as u32),
            Some(Diagnosis::PathDenied) => kind = 3,
            Some(Diagnosis::None) | None => {}
        }
        let words: [u32; WORDS] = [
            index.map_or(u32::MAX, |i| i as u32),
            errno.map_or(0, |e| e.into_raw() as u32),
            candidate as u32,
            kind,
            mode,
            uid,
            noexec,
            head.len as u32,
        ];
        let mut bytes = [0u8; SIZE];
        for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&word.to_ne_bytes());
        }
        bytes[WORDS * 4..].copy_from_slice(&head.bytes);
        bytes
    }

    fn from_bytes(bytes: &[u8; SIZE]) -> Option<Report> {
        let word = |i: usize| u32::from_ne_bytes(bytes[i * 4..i * 4 + 4].try_into().unwrap());
        let step = *ChildStep::ALL.get(word(0) as usize)?;
        let errno = (word(1) != 0).then(|| Errno::new(word(1) as i32));
        if step != ChildStep::Exec {
            return Some(Report::Step(step, errno));
        }
        let diagnosis = match word(3) {
            0 => Diagnosis::None,
            1 => {
                let mut head = Head {
                    len: word(7).min(Head::SIZE as u32) as u8,
                    bytes: [0; Head::SIZE],
                };
                head.bytes.copy_from_slice(&bytes[WORDS * 4..]);
                Diagnosis::InterpreterMissing(head)
            }
            2 => Diagnosis::Denied {
                mode: word(4),
                uid: word(5),
                noexec: word(6) != 0,
            },
            3 => Diagnosis::PathDenied,
            _ => return None,
        };
        Some(Report::Exec(ExecFailure {
            errno: errno?,
            candidate: (word(2) as i32 >= 0).then_some(word(2)),
            diagnosis,
        }))
    }

    /// Write the report on the child's end of the report pipe. Nobody may be
    /// reading (a parent that died): a failure is ignored.
    fn send(self, pipe: &Fd) {
        let _ = sys::write(pipe.raw(), &self.to_bytes());
    }

    /// Read the child's report in the parent: `None` at end-of-file, which
    /// means the exec succeeded and closed the pipe.
    pub fn read(pipe: &Fd) -> Result<Option<Report>, ReportError> {
        let mut buf = [0u8; SIZE];
        match sys::read(pipe.raw(), &mut buf) {
            Ok(0) => Ok(None),
            Ok(SIZE) => Report::from_bytes(&buf)
                .map(Some)
                .ok_or(ReportError::Garbled(SIZE)),
            Ok(short) => Err(ReportError::Garbled(short)),
            Err(errno) => Err(ReportError::Read(errno)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_steps_map_both_ways_and_no_other_step_is_one() {
        for step in root::Step::ALL {
            assert_eq!(ChildStep::from(step).root(), Some(step));
        }
        let others = ChildStep::ALL.iter().filter(|s| s.root().is_none()).count();
        assert_eq!(others, ChildStep::ALL.len() - root::Step::ALL.len());
    }

    #[test]
    fn every_report_reads_back_as_it_was_written() {
        let mut bytes = [0u8; Head::SIZE];
        bytes[..5].copy_from_slice(b"#!/no");
        let head = Head { len: 5, bytes };
        let diagnoses = [
            Diagnosis::None,
            Diagnosis::InterpreterMissing(head),
            Diagnosis::Denied {
                mode: 0o100744,
                uid: 65534,
                noexec: true,
            },
            Diagnosis::PathDenied,
        ];
        for &step in ChildStep::ALL {
            for errno in [None, Some(Errno::EPERM)] {
                let report = Report::Step(step, errno);
                if step != ChildStep::Exec {
                    assert_eq!(Report::from_bytes(&report.to_bytes()), Some(report));
                }
            }
        }
        for diagnosis in diagnoses {
            for candidate in [None, Some(0), Some(7)] {
                let report = Report::Exec(ExecFailure {
                    errno: Errno::EACCES,
                    candidate,
                    diagnosis,
                });
                assert_eq!(Report::from_bytes(&report.to_bytes()), Some(report));
            }
        }
    }

    #[test]
    fn a_report_that_names_no_step_is_refused() {
        let mut bytes = Report::Step(ChildStep::Hold, None).to_bytes();
        bytes[..4].copy_from_slice(&(ChildStep::ALL.len() as u32).to_ne_bytes());
        assert_eq!(Report::from_bytes(&bytes), None);
    }
}
