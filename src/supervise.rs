//! While the command runs: the launcher waits for it, passes signals on, and
//! then ends the way it did.
//!
//! The launcher installs no signal handler. Before clone it *blocks* the
//! signals it cares about ([`SUPERVISED`]); the child is given back the
//! caller's original mask just before exec, so nothing the launcher changed
//! leaks into the command (util-linux 2.38 fixed exactly such a leak: an
//! ignored SIGTERM inherited through exec). While the command runs, the
//! launcher takes those signals one at a time with `rt_sigtimedwait(2)`
//! ([`supervise`]):
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
//! [`crate::Command::parent_death_signal`]. See signal(7), sigprocmask(2),
//! sigtimedwait(2), prctl(2).

use syscalls::Errno;

use crate::signal::{Disposition, SigSet};
use crate::sys::{self, Pid};
use crate::wait::WaitStatus;

/// The signals the launcher takes synchronously while its child runs.
pub const SUPERVISED: SigSet = SigSet::EMPTY
    .with(libc::SIGCHLD)
    .with(libc::SIGTERM)
    .with(libc::SIGHUP)
    .with(libc::SIGINT)
    .with(libc::SIGQUIT);

/// Block [`SUPERVISED`] in the calling thread, before the child exists, so
/// that none is lost (or kills the launcher) in between; returns the mask as
/// it was, for the command.
pub fn block() -> Result<SigSet, Errno> {
    sys::sigprocmask(libc::SIG_BLOCK, SUPERVISED)
}

/// Take SIGCHLD back if the caller left it ignored (which survives exec):
/// while SIGCHLD is ignored the kernel reaps children at once and sends no
/// SIGCHLD, so the launcher would never learn how the command ended, nor
/// wake up. Returns whether it was ignored: then the command should get it
/// ignored again, just before its exec ([`crate::Command::signal_ignores`]).
pub fn take_back_sigchld() -> Result<bool, Errno> {
    if sys::sigaction_disposition(libc::SIGCHLD)? != Disposition::Ignore {
        return Ok(false);
    }
    sys::sigaction_default(libc::SIGCHLD)?;
    Ok(true)
}

/// Wait for the child `pid` while forwarding signals to it, as described in
/// the module documentation. [`SUPERVISED`] must be blocked in the calling
/// thread, since before the child was created ([`block`]).
pub fn supervise(pid: Pid) -> Result<WaitStatus, Errno> {
    loop {
        let (sig, info) = sys::sigwaitinfo(SUPERVISED)?;
        match sig {
            libc::SIGCHLD => {
                // WNOHANG: SIGCHLD also reports a child that stopped or
                // continued, and the launcher must not block on those.
                if let Some(status) = sys::wait4(pid, libc::WNOHANG)? {
                    match status {
                        WaitStatus::Exited(_) | WaitStatus::Signaled { .. } => return Ok(status),
                        WaitStatus::Stopped(_) | WaitStatus::Continued => {}
                    }
                }
            }
            // A terminal sends SIGINT and SIGQUIT with si_code SI_KERNEL to
            // the whole foreground group, child included; kill(2) and friends
            // send them with si_code <= 0, to the launcher alone or to its
            // whole group, which look alike: those are forwarded.
            libc::SIGINT | libc::SIGQUIT if info.si_code > 0 => {}
            // The child is not reaped yet, so its pid cannot have been reused
            // by another process: this never signals a stranger.
            _ => match sys::kill(pid, sig, "passed on: the child decides what it means") {
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
    sys::exit_group(status.exit_code())
}
