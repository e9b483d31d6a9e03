//! `--trace`: every system call, as it is made, with why.
//!
//! strace(1) shows the calls a process makes, without meaning; nsclone's
//! story is in its source. With tracing on, each typed function of
//! [`crate::sys`] writes one line on standard error after its system call
//! returns:
//!
//! ```text
//! launcher[4711] mprotect(0x7f3c2a1e0000, 4096, PROT_NONE) = 0  # the guard page: ...
//! ^who            ^the call, decoded as strace decodes it  ^result ^why
//! ```
//!
//! - **who**: `launcher` or `child`, and the pid that process sees for
//!   itself. The trace learns it from getpid(2), which the launcher calls
//!   (traced) as soon as tracing is on, and the child as its first step
//!   ([`become_child`]); no line costs a system call but its own write.
//! - **the call**: arguments in strace's notation ([`crate::strace`]), so a
//!   line can be checked against `strace -f` (a test does exactly that).
//! - **result**: the value, an address in hex, or `-1 ENAME (meaning)`.
//!   A call that may not return (execve(2), clone(2), exit_group(2), a
//!   fatal kill(2) of oneself) is written *before* it is made, as strace
//!   writes an unfinished call: `<unfinished ...>` or `= ?`; when it
//!   returns, `<... clone resumed> = 4712` follows. So the launcher's clone
//!   always comes before anything its child says.
//! - **why**: for the key steps, one short reason after `#`.
//!
//! The child writes lines too, between clone and exec, so nothing here
//! allocates, locks or panics: a line is formatted with `core::fmt` into a
//! [`FixedBuf`] of [`LINE_MAX`] bytes on the caller's stack and written with
//! one write(2), which keeps the launcher's and the child's lines whole when
//! they run at the same time. Each process's lines are in the order of its
//! calls; the two processes' lines interleave as the scheduler runs them.
//!
//! What is not traced: the write(2) of each line, made here rather than in
//! [`crate::sys`] (whose functions trace themselves, so they cannot also
//! write their own lines). A call during which the process dies of a
//! signal leaves no line, unless it is one of those written first.
//!
//! # Tracing a new system call
//! Add the typed function to [`crate::sys`] as usual, keep the raw result in
//! a variable, and write one `trace!` line before returning it:
//!
//! ```ignore
//! pub fn unshare(flags: i32) -> Result<(), Errno> {
//!     // SAFETY: unshare touches no memory of ours.
//!     let ret = unsafe { syscall!(Sysno::unshare, flags) };
//!     trace!("unshare({})", NsFlags(flags) => &ret; "{why}");
//!     ret.map(drop)
//! }
//! ```
//!
//! The macro takes the call as `format_args!` does, then `=>` and the result
//! (`&ret` prints a number; [`Ret::Hex`], [`Ret::Signal`], [`Ret::NsType`],
//! [`Ret::Unfinished`] and [`Ret::NoReturn`] print otherwise), then, optionally, `;` and the why,
//! again as `format_args!` (an empty why prints no `#`). It costs one atomic
//! load when tracing is off. The argument formatters of [`crate::strace`]
//! print what strace prints; then add a scenario to `tests/trace.rs`, which
//! checks the new line against strace.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use syscalls::{Errno, Sysno, syscall};

use crate::strace::{ErrnoName, NsFlags, Signal};
use crate::text::FixedBuf;

/// The longest line written, newline included; longer ones are cut and end
/// with `...`. The buffer lives on the stack of the process that traces, the
/// child's included, whose stack is [`crate::stack::STACK_SIZE`] bytes.
pub const LINE_MAX: usize = 1024;

/// Whether tracing is on. Set once by the launcher before clone; the child
/// only reads it.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Who speaks: whether the lines come from the child, and its pid as it
/// sees it (0 until getpid(2) tells). In fork style the child has its own
/// copy of these; in vfork style (`CLONE_VM`) it writes them in the
/// launcher's memory while the launcher sleeps, and [`crate::clone`] sets
/// them back when clone returns.
static CHILD: AtomicBool = AtomicBool::new(false);
static PID: AtomicI32 = AtomicI32::new(0);

/// Turn tracing on for this process and the children it clones from now on.
/// Call it in the launcher, before clone and before any other thread starts,
/// then getpid(2) (through [`crate::sys::getpid`]) so that lines say who
/// speaks.
pub fn enable() {
    CHILD.store(false, Ordering::Relaxed);
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether tracing is on.
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// In the child, first thing after clone: the lines from now on are the
/// child's. Its pid follows from its getpid(2).
pub fn become_child() {
    CHILD.store(true, Ordering::Relaxed);
    PID.store(0, Ordering::Relaxed);
}

/// getpid(2) said `pid`: the process speaking has that pid.
pub fn heard_pid(pid: i32) {
    PID.store(pid, Ordering::Relaxed);
}

/// Who speaks now, to be restored with [`set_speaker`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Speaker {
    child: bool,
    pid: i32,
}

/// Who speaks now.
pub fn speaker() -> Speaker {
    Speaker {
        child: CHILD.load(Ordering::Relaxed),
        pid: PID.load(Ordering::Relaxed),
    }
}

/// Set who speaks back to `speaker`.
pub fn set_speaker(speaker: Speaker) {
    CHILD.store(speaker.child, Ordering::Relaxed);
    PID.store(speaker.pid, Ordering::Relaxed);
}

/// Write one trace line for a system call, when tracing is on.
///
/// `trace!("CALL FORMAT", args... => RESULT)` or
/// `trace!("CALL FORMAT", args... => RESULT; "WHY FORMAT", args...)`, where
/// RESULT is a [`Ret`] or a `&Result<usize, Errno>` (printed in decimal).
/// See the [module documentation](self) for the whole pattern.
macro_rules! trace {
    ($call:literal $(, $arg:expr)* => $ret:expr) => {
        if $crate::trace::enabled() {
            $crate::trace::emit(
                format_args!($call $(, $arg)*),
                $crate::trace::Ret::from($ret),
                None,
            )
        }
    };
    ($call:literal $(, $arg:expr)* => $ret:expr; $why:literal $(, $warg:expr)*) => {
        if $crate::trace::enabled() {
            $crate::trace::emit(
                format_args!($call $(, $arg)*),
                $crate::trace::Ret::from($ret),
                Some(format_args!($why $(, $warg)*)),
            )
        }
    };
}
pub(crate) use trace;

/// A system call's result, and how to print it.
#[derive(Clone, Copy, Debug)]
pub enum Ret<'a> {
    /// A count, a pid, or 0: printed in decimal.
    Dec(&'a Result<usize, Errno>),
    /// An address: printed in hex.
    Hex(&'a Result<usize, Errno>),
    /// A signal number: printed as `17 (SIGCHLD)`.
    Signal(&'a Result<usize, Errno>),
    /// A namespace type (ioctl `NS_GET_NSTYPE`): printed as
    /// `67108864 (CLONE_NEWUTS)`.
    NsType(&'a Result<usize, Errno>),
    /// Written before a call that may not return: `<unfinished ...>`.
    Unfinished,
    /// Written before a call that never returns (exit_group): `= ?`.
    NoReturn,
}

impl<'a> From<&'a Result<usize, Errno>> for Ret<'a> {
    fn from(ret: &'a Result<usize, Errno>) -> Ret<'a> {
        Ret::Dec(ret)
    }
}

impl fmt::Display for Ret<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Ret::Unfinished => f.write_str(" <unfinished ...>"),
            Ret::NoReturn => f.write_str(" = ?"),
            Ret::Dec(Err(errno))
            | Ret::Hex(Err(errno))
            | Ret::Signal(Err(errno))
            | Ret::NsType(Err(errno)) => write!(f, " = -1 {}", ErrnoName(*errno)),
            Ret::Dec(Ok(v)) => write!(f, " = {v}"),
            Ret::Hex(Ok(v)) => write!(f, " = {v:#x}"),
            Ret::Signal(Ok(v)) => write!(f, " = {v} ({})", Signal(*v as i32)),
            Ret::NsType(Ok(v)) => write!(f, " = {v} ({})", NsFlags(*v as i32)),
        }
    }
}

/// Format and write one line: `who[pid] CALL RESULT  # WHY`. Use `trace!`
/// rather than calling this directly.
pub fn emit(call: fmt::Arguments<'_>, ret: Ret<'_>, why: Option<fmt::Arguments<'_>>) {
    let Speaker { child, pid } = speaker();
    let who = if child { "child" } else { "launcher" };
    let mut line = FixedBuf::<LINE_MAX>::new();
    let _ = write!(line, "{who}[{pid}] {call}{ret}");
    if let Some(why) = why {
        const MARK: &str = "  # ";
        let before = line.len();
        let _ = write!(line, "{MARK}{why}");
        // An empty why (`"{why}"` with `why == ""`) leaves no `#` behind.
        if line.len() == before + MARK.len() {
            line.truncate(before);
        }
    }
    write_line(line.line());
}

/// write(2) of one line on standard error: the one system call made outside
/// [`crate::sys`], and the one not traced. Errors are ignored: a trace that
/// cannot be written must not change what it traces.
fn write_line(line: &[u8]) {
    // SAFETY: the kernel reads at most `line.len()` bytes from `line`.
    while let Err(Errno::EINTR) =
        unsafe { syscall!(Sysno::write, libc::STDERR_FILENO, line.as_ptr(), line.len()) }
    {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(value: impl fmt::Display) -> String {
        let mut buf = FixedBuf::<LINE_MAX>::new();
        write!(buf, "{value}").unwrap();
        String::from_utf8(buf.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn results_and_errnos() {
        assert_eq!(show(Ret::Dec(&Ok(4712))), " = 4712");
        assert_eq!(show(Ret::Hex(&Ok(0x7f00_0000_1000))), " = 0x7f0000001000");
        assert_eq!(show(Ret::Signal(&Ok(17))), " = 17 (SIGCHLD)");
        assert_eq!(
            show(Ret::NsType(&Ok(0x0400_0000))),
            " = 67108864 (CLONE_NEWUTS)"
        );
        assert_eq!(
            show(Ret::Dec(&Err(Errno::ENOENT))),
            " = -1 ENOENT (No such file or directory)"
        );
        assert_eq!(show(Ret::NoReturn), " = ?");
        assert_eq!(show(Ret::Unfinished), " <unfinished ...>");
    }
}
