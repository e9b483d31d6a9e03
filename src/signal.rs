//! Signals: how the launcher keeps out of its child's way.
//!
//! The launcher installs no signal handler. Before clone it *blocks* the
//! signals it cares about; the child is given back the caller's original mask
//! just before exec, so nothing the launcher changed leaks into the command
//! (util-linux 2.38 fixed exactly such a leak: an ignored SIGTERM inherited
//! through exec). While the command runs, the launcher takes those signals
//! one at a time with `rt_sigtimedwait(2)` ([`supervise`]):
//!
//! - `SIGCHLD`: the child may have ended; `wait4(2)` tells.
//! - `SIGTERM`, `SIGHUP`: forwarded to the child, which decides.
//! - `SIGINT`, `SIGQUIT` from the terminal: ignored, since the terminal sent
//!   them to the whole foreground process group and the child has its own.
//!   Sent by `kill`, they are forwarded like SIGTERM.
//!
//! A signal sent to the launcher's whole process group (`kill 0`,
//! `timeout`) reaches the child directly as well, and the forwarded copy may
//! be taken as a second one: kill(2) marks both alike (`SI_USER`, the same
//! sender), so the launcher cannot tell them apart. The child stays in the
//! caller's group all the same, for the terminal's sake; the README's
//! Signals section weighs this against what tini and dumb-init do.
//!
//! With a new PID namespace the command is its PID 1, and the kernel drops
//! every signal PID 1 has no handler for, SIGKILL and SIGSTOP from outside
//! excepted (pid_namespaces(7)). A forwarded SIGTERM then does nothing unless
//! the command handles it; the launcher goes on waiting, and does not
//! escalate: the command decides, as it would outside.
//!
//! When the child is gone, [`exit_like`] ends the launcher the same way, so a
//! shell sees the child's exit code, or 128+N for a child killed by signal N.
//! The other way round, if the launcher dies first (even by SIGKILL, which it
//! cannot take), `--kill-child` has the kernel signal the command: see
//! [`crate::Command::parent_death_signal`]. [`parse`] reads the signal's
//! name. See signal(7), sigprocmask(2), sigtimedwait(2), prctl(2).

use syscalls::Errno;

use crate::sys::{self, Pid};
use crate::wait::WaitStatus;

/// A set of signals, as the kernel's 64-bit `sigset_t`: bit N-1 is signal N.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigSet(u64);

impl SigSet {
    /// The size of the kernel's signal set, which the `rt_sig*` calls expect
    /// (libc's `sigset_t` is larger, reserved for growth that never came).
    pub const KERNEL_SIZE: usize = 8;

    /// No signals.
    pub const EMPTY: SigSet = SigSet(0);

    /// Every signal (the kernel silently keeps SIGKILL and SIGSTOP unblocked).
    pub const ALL: SigSet = SigSet(!0);

    /// A set from its raw bits.
    pub const fn from_bits(bits: u64) -> SigSet {
        SigSet(bits)
    }

    /// The raw bits, as the kernel reads them.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// This set plus signal `sig` (1 to 64).
    pub const fn with(self, sig: i32) -> SigSet {
        SigSet(self.0 | 1 << (sig - 1))
    }

    /// Whether `sig` is in the set.
    pub const fn contains(self, sig: i32) -> bool {
        self.0 & (1 << (sig - 1)) != 0
    }
}

/// The signals the launcher takes synchronously while its child runs.
pub const SUPERVISED: SigSet = SigSet::EMPTY
    .with(libc::SIGCHLD)
    .with(libc::SIGTERM)
    .with(libc::SIGHUP)
    .with(libc::SIGINT)
    .with(libc::SIGQUIT);

/// What the kernel does when a signal arrives (its disposition, signal(7)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// The default action (`SIG_DFL`): terminate, dump core, stop or ignore,
    /// depending on the signal.
    Default,
    /// Ignored (`SIG_IGN`); exec keeps it so.
    Ignore,
    /// A handler function of this process; exec resets it to the default.
    Handler,
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

/// Set every signal in `set` back to its default action, whatever it was.
pub fn set_defaults(set: SigSet) -> Result<(), Errno> {
    for sig in (1..=SIGNAL_MAX).filter(|&sig| set.contains(sig)) {
        sys::sigaction_default(sig)?;
    }
    Ok(())
}

/// Set every signal in `set` to be ignored, whatever it was.
pub fn set_ignored(set: SigSet) -> Result<(), Errno> {
    for sig in (1..=SIGNAL_MAX).filter(|&sig| set.contains(sig)) {
        sys::sigaction_ignore(sig)?;
    }
    Ok(())
}

/// Block `set` in the calling thread; returns the mask as it was before.
pub fn block(set: SigSet) -> Result<SigSet, Errno> {
    sys::sigprocmask(libc::SIG_BLOCK, set)
}

/// Replace the calling thread's mask with `set`; returns the old one.
pub fn set_mask(set: SigSet) -> Result<SigSet, Errno> {
    sys::sigprocmask(libc::SIG_SETMASK, set)
}

/// Wait for the child `pid` while forwarding signals to it, as described in
/// the module documentation. [`SUPERVISED`] must be blocked in the calling
/// thread, since before the child was created.
pub fn supervise(pid: Pid) -> Result<WaitStatus, Errno> {
    loop {
        let (sig, info) = sys::sigwaitinfo(SUPERVISED)?;
        match sig {
            libc::SIGCHLD => {
                // WNOHANG: SIGCHLD also reports a child that stopped or
                // continued, and the launcher must not block on those.
                let (reaped, status) = sys::wait4(pid, libc::WNOHANG)?;
                if reaped == pid {
                    return Ok(WaitStatus::from_raw(status));
                }
            }
            // A terminal sends SIGINT and SIGQUIT with si_code SI_KERNEL to
            // the whole foreground group, child included; kill(2) and friends
            // send them with si_code <= 0, to the launcher alone or to its
            // whole group, which look alike: those are forwarded.
            libc::SIGINT | libc::SIGQUIT if info.si_code > 0 => {}
            // The child is not reaped yet, so its pid cannot have been reused
            // by another process: this never signals a stranger.
            _ => match sys::kill(pid, sig) {
                Ok(()) | Err(Errno::ESRCH) => {}
                Err(errno) => return Err(errno),
            },
        }
    }
}

/// End the launcher the way its child ended: with the same exit code, or
/// killed by the same signal, so that the launcher is transparent to whoever
/// started it.
pub fn exit_like(status: WaitStatus) -> ! {
    if let WaitStatus::Signaled { signal, .. } = status {
        // The launcher's own core dump would be noise: the child's counts.
        let _ = sys::setrlimit(libc::RLIMIT_CORE, 0);
        let _ = sys::sigaction_default(signal);
        let _ = sys::sigprocmask(libc::SIG_UNBLOCK, SigSet::EMPTY.with(signal));
        let _ = sys::raise(signal);
    }
    // Reached for a normal exit, or for a signal whose default action does
    // not kill (then the shell's convention 128+N is the best we can do).
    // What std buffered for standard output is written first; exit_group
    // then ends the process without running anything else.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    sys::exit_group(status.exit_code())
}

/// The name of signal `sig`, such as `"SIGTERM"`, for messages.
pub fn name(sig: i32) -> &'static str {
    const NAMES: [&str; 32] = [
        "0",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    usize::try_from(sig)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
        .unwrap_or("a real-time signal")
}

/// The highest signal number the kernel knows (`_NSIG - 1`, `SIGRTMAX`).
pub const SIGNAL_MAX: i32 = 64;

/// Parse a signal as kill(1) takes it: a number (`15`), or a name with or
/// without its `SIG` prefix, in any case (`SIGTERM`, `term`). Real-time
/// signals are accepted by number only.
pub fn parse(text: &str) -> Option<i32> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let sig = text.parse::<i32>().ok()?;
        return (1..=SIGNAL_MAX).contains(&sig).then_some(sig);
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    (1..32).find(|&sig| self::name(sig)[3..] == *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigset_bits_follow_the_kernel_numbering() {
        let set = SigSet::EMPTY.with(libc::SIGHUP).with(64);
        assert_eq!(set.bits(), 1 | 1 << 63);
        assert!(set.contains(libc::SIGHUP));
        assert!(!set.contains(libc::SIGINT));
        assert!(SUPERVISED.contains(libc::SIGCHLD));
    }

    #[test]
    fn signal_names() {
        assert_eq!(name(libc::SIGTERM), "SIGTERM");
        assert_eq!(name(libc::SIGKILL), "SIGKILL");
        assert_eq!(name(libc::SIGSYS), "SIGSYS");
        assert_eq!(name(40), "a real-time signal");
    }

    #[test]
    fn signals_parse_by_name_and_number() {
        for text in ["SIGTERM", "TERM", "term", "SigTerm", "15"] {
            assert_eq!(parse(text), Some(libc::SIGTERM), "{text}");
        }
        assert_eq!(parse("KILL"), Some(libc::SIGKILL));
        assert_eq!(parse("sys"), Some(libc::SIGSYS));
        assert_eq!(parse("64"), Some(64));
        for bad in ["", "0", "65", "-9", "SIG", "SIGFOO", "9x", " 9", "+9"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_named_signal_parses_back() {
        for sig in 1..32 {
            assert_eq!(parse(name(sig)), Some(sig));
        }
    }
}
