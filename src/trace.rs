//! `--trace`: every system call of the launch, as it is made, with why.
//!
//! strace(1) shows the calls a process makes, without meaning; nsclone's
//! story is in its source. With tracing on, each typed function of
//! [`crate::sys`] (and the clone trampoline's caller) writes one line on
//! standard error after its system call returns:
//!
//! ```text
//! launcher[4711] mprotect(0x7f3c2a1e0000, 4096, PROT_NONE) = 0  # the guard page: ...
//! ^who            ^the call, decoded as strace decodes it  ^result ^why
//! ```
//!
//! - **who**: `launcher` or `child`, with the pid the process sees for
//!   itself (getpid(2)). A process is the launcher when its pid is the one
//!   [`enable`] recorded before clone: nothing is stored for the child, which
//!   with `CLONE_VM` would share (and overwrite) the launcher's memory.
//! - **the call**: arguments in strace's notation, so a line can be checked
//!   against `strace -f` (a test does exactly that): flags by name, strings
//!   quoted, pointers in hex.
//! - **result**: the value, an address in hex, or `-1 ENAME (meaning)`.
//!   A call that does not return when it succeeds (execve(2), exit_group(2),
//!   a fatal kill(2) of oneself) is written *before* it is made, as strace
//!   writes an unfinished call: `<unfinished ...>` or `= ?`, and, if it does
//!   return, `<... execve resumed> = -1 ENOENT (...)` after.
//! - **why**: for the key steps, one short reason after `#`.
//!
//! The child may write lines too, between clone and exec, so nothing here
//! allocates, locks or panics: a line is formatted with `core::fmt` into a
//! fixed buffer on the caller's stack ([`LINE_MAX`] bytes, cut with `...` if
//! longer) and written with one write(2), which keeps the launcher's and the
//! child's lines whole when they run at the same time. Each process's lines
//! are in the order of its calls; the two processes' lines interleave as the
//! scheduler runs them.
//!
//! What is not traced: getpid(2), with which a line says who speaks, and
//! the write(2) of each line (`tests/trace.rs` leaves both out of strace's
//! side). A call during which the process dies of a signal leaves no line,
//! unless it is one of those written first.
//!
//! # Tracing a new system call
//! Add the typed function to [`crate::sys`] as usual, keep the raw result in
//! a variable, and write one `trace!` line before returning it:
//!
//! ```ignore
//! pub fn unshare(flags: i32) -> Result<(), Errno> {
//!     // SAFETY: unshare touches no memory of ours.
//!     let ret = unsafe { syscall!(Sysno::unshare, flags) };
//!     let why = match flags {
//!         libc::CLONE_NEWTIME => "a new time namespace for the children to come",
//!         _ => "",
//!     };
//!     trace!("unshare({})", NsFlags(flags) => &ret; "{why}");
//!     ret.map(drop)
//! }
//! ```
//!
//! The macro takes the call as `format_args!` does, then `=>` and the result
//! (`&ret` prints a number; [`Ret::Hex`], [`Ret::Signal`], [`Ret::Unfinished`]
//! and [`Ret::NoReturn`] print otherwise), then, optionally, `;` and the why,
//! again as `format_args!` (an empty why prints no `#`). It costs one atomic
//! load when tracing is off. The argument formatters below ([`Str`],
//! [`Ptr`], [`Prot`], [`MapFlags`], [`CloneFlags`], [`NsFlags`],
//! [`MountFlags`], [`OpenFlags`], [`Sigset`], [`Signal`]...) print what
//! strace prints; then add a scenario to `tests/trace.rs`, which checks the
//! new line against strace.

use core::ffi::{CStr, c_char};
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use syscalls::Errno;

use crate::signal::{self, SigSet};
use crate::sys::{self, Pid};
use crate::wait::WaitStatus;

/// The longest line written, newline included; longer ones are cut and end
/// with `...`. The buffer lives on the stack of the process that traces, the
/// child's included, whose stack is [`crate::stack::STACK_SIZE`] bytes.
pub const LINE_MAX: usize = 1024;

/// The longest string argument shown, in bytes, before `...`.
const STR_MAX: usize = 96;

/// Whether tracing is on. Set once by the launcher before clone; the child
/// only reads it.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// The launcher's pid, recorded by [`enable`] before clone. A process whose
/// getpid(2) differs is the child.
static LAUNCHER: AtomicI32 = AtomicI32::new(0);

/// Turn tracing on for this process and the children it clones from now on.
/// Call it in the launcher, before clone and before any other thread starts.
pub fn enable() {
    LAUNCHER.store(sys::getpid(), Ordering::Relaxed);
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether tracing is on.
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The launcher's pid, as [`enable`] recorded it (0 if tracing is off).
pub fn launcher_pid() -> Pid {
    LAUNCHER.load(Ordering::Relaxed)
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
    /// Written before a call that does not return if it succeeds (execve):
    /// `<unfinished ...>`.
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
        let ret = match *self {
            Ret::Unfinished => return f.write_str(" <unfinished ...>"),
            Ret::NoReturn => return f.write_str(" = ?"),
            Ret::Dec(ret) | Ret::Hex(ret) | Ret::Signal(ret) => ret,
        };
        match (ret, self) {
            (Err(errno), _) => write!(f, " = -1 {}", ErrnoName(*errno)),
            (Ok(v), Ret::Hex(_)) => write!(f, " = {v:#x}"),
            (Ok(v), Ret::Signal(_)) => write!(f, " = {v} ({})", Signal(*v as i32)),
            (Ok(v), _) => write!(f, " = {v}"),
        }
    }
}

/// Format and write one line: `who[pid] CALL RESULT  # WHY`. Use `trace!`
/// rather than calling this directly.
pub(crate) fn emit(call: fmt::Arguments<'_>, ret: Ret<'_>, why: Option<fmt::Arguments<'_>>) {
    let pid = sys::getpid();
    let who = if pid == launcher_pid() {
        "launcher"
    } else {
        "child"
    };
    let mut line = Line::new();
    let _ = write!(line, "{who}[{pid}] {call}{ret}");
    if let Some(why) = why {
        let before = line.len;
        let _ = write!(line, "  # {why}");
        // An empty why (`"{why}"` with `why == ""`) leaves no `#` behind.
        if line.len == before + 4 {
            line.len = before;
        }
    }
    sys::write_untraced(libc::STDERR_FILENO, line.finish());
}

/// A line being formatted into a fixed buffer; what does not fit is cut.
pub struct Line {
    buf: [u8; LINE_MAX],
    len: usize,
    cut: bool,
}

impl Line {
    /// An empty line.
    pub fn new() -> Line {
        Line {
            buf: [0; LINE_MAX],
            len: 0,
            cut: false,
        }
    }

    /// The line's bytes with a newline, ending in `...` if it was cut.
    pub fn finish(&mut self) -> &[u8] {
        const ELLIPSIS: &[u8] = b"...\n";
        if self.cut {
            let at = self.len.min(LINE_MAX - ELLIPSIS.len());
            self.buf[at..at + ELLIPSIS.len()].copy_from_slice(ELLIPSIS);
            self.len = at + ELLIPSIS.len();
        } else {
            self.buf[self.len] = b'\n';
            self.len += 1;
        }
        &self.buf[..self.len]
    }
}

impl Default for Line {
    fn default() -> Line {
        Line::new()
    }
}

impl fmt::Write for Line {
    /// Never fails: a line too long is cut, so formatting cannot panic.
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = LINE_MAX - 1 - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        self.cut |= n < s.len();
        Ok(())
    }
}

/// An errno as strace prints it: `ENOENT (No such file or directory)`.
pub struct ErrnoName(pub Errno);

impl fmt::Display for ErrnoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.name(), self.0.description()) {
            (Some(name), Some(meaning)) => write!(f, "{name} ({meaning})"),
            _ => write!(f, "errno {}", self.0.into_raw()),
        }
    }
}

/// A byte string, quoted and escaped as strace does, cut after
/// `STR_MAX` bytes.
pub struct Str<'a>(pub &'a [u8]);

impl<'a> Str<'a> {
    /// A C string, without its NUL.
    pub fn c(s: &'a CStr) -> Str<'a> {
        Str(s.to_bytes())
    }
}

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.0[..self.0.len().min(STR_MAX)];
        f.write_char('"')?;
        for (i, &b) in shown.iter().enumerate() {
            match b {
                b'"' => f.write_str("\\\"")?,
                b'\\' => f.write_str("\\\\")?,
                b'\t' => f.write_str("\\t")?,
                b'\n' => f.write_str("\\n")?,
                b'\r' => f.write_str("\\r")?,
                0x0b => f.write_str("\\v")?,
                0x0c => f.write_str("\\f")?,
                0x20..=0x7e => f.write_char(b as char)?,
                // Octal, as strace and C write it; three digits when a digit
                // follows, so that it is not read as part of the escape.
                _ if shown.get(i + 1).is_some_and(u8::is_ascii_digit) => write!(f, "\\{b:03o}")?,
                _ => write!(f, "\\{b:o}")?,
            }
        }
        f.write_char('"')?;
        if shown.len() < self.0.len() {
            f.write_str("...")?;
        }
        Ok(())
    }
}

/// A buffer the kernel filled, as strace shows it: the bytes it wrote
/// (`ret` of them) quoted, or the buffer's address if the call failed.
pub struct Filled<'a> {
    /// The whole buffer passed to the call.
    pub buf: &'a [u8],
    /// The call's result: how many bytes it wrote.
    pub ret: &'a Result<usize, Errno>,
}

impl fmt::Display for Filled<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self.ret {
            Ok(n) => write!(f, "{}", Str(&self.buf[..n.min(self.buf.len())])),
            Err(_) => write!(f, "{:p}", self.buf.as_ptr()),
        }
    }
}

/// A NUL-terminated string in a fixed C array (as in `struct utsname`),
/// quoted like [`Str`].
pub struct CChars<'a>(pub &'a [c_char]);

impl fmt::Display for CChars<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = [0u8; STR_MAX + 1];
        let mut len = 0;
        for &c in self.0.iter().take_while(|&&c| c != 0).take(bytes.len()) {
            bytes[len] = c as u8;
            len += 1;
        }
        write!(f, "{}", Str(&bytes[..len]))
    }
}

/// An optional C string: quoted, or `NULL`.
pub struct OptStr<'a>(pub Option<&'a CStr>);

impl fmt::Display for OptStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(s) => write!(f, "{}", Str::c(s)),
            None => f.write_str("NULL"),
        }
    }
}

/// A pointer: `NULL`, or its address in hex.
pub struct Ptr(pub usize);

impl fmt::Display for Ptr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("NULL"),
            p => write!(f, "{p:#x}"),
        }
    }
}

/// Print the bits of `value` named in `names` joined by `|`, then any bits
/// left over in hex; `zero` when no bit is set.
fn flags(f: &mut fmt::Formatter<'_>, value: u64, names: &[(u64, &str)], zero: &str) -> fmt::Result {
    let mut left = value;
    let mut first = true;
    for &(bit, name) in names {
        if bit != 0 && value & bit == bit {
            if !first {
                f.write_char('|')?;
            }
            f.write_str(name)?;
            left &= !bit;
            first = false;
        }
    }
    match (left, first) {
        (0, true) => f.write_str(zero),
        (0, false) => Ok(()),
        (left, true) => write!(f, "{left:#x}"),
        (left, false) => write!(f, "|{left:#x}"),
    }
}

/// mmap(2)/mprotect(2) protections: `PROT_READ|PROT_WRITE`, `PROT_NONE`.
pub struct Prot(pub i32);

impl fmt::Display for Prot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: &[(u64, &str)] = &[
            (libc::PROT_READ as u64, "PROT_READ"),
            (libc::PROT_WRITE as u64, "PROT_WRITE"),
            (libc::PROT_EXEC as u64, "PROT_EXEC"),
        ];
        flags(f, self.0 as u64, NAMES, "PROT_NONE")
    }
}

/// mmap(2) flags: `MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK`.
pub struct MapFlags(pub i32);

impl fmt::Display for MapFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: &[(u64, &str)] = &[
            (libc::MAP_SHARED as u64, "MAP_SHARED"),
            (libc::MAP_PRIVATE as u64, "MAP_PRIVATE"),
            (libc::MAP_FIXED as u64, "MAP_FIXED"),
            (libc::MAP_ANONYMOUS as u64, "MAP_ANONYMOUS"),
            (libc::MAP_GROWSDOWN as u64, "MAP_GROWSDOWN"),
            (libc::MAP_NORESERVE as u64, "MAP_NORESERVE"),
            (libc::MAP_POPULATE as u64, "MAP_POPULATE"),
            (libc::MAP_STACK as u64, "MAP_STACK"),
        ];
        flags(f, self.0 as u64, NAMES, "0")
    }
}

/// clone(2) flags, with the exit signal in the low byte:
/// `CLONE_NEWUTS|SIGCHLD`.
pub struct CloneFlags(pub u64);

impl fmt::Display for CloneFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: &[(u64, &str)] = &[
            (libc::CLONE_VM as u64, "CLONE_VM"),
            (libc::CLONE_FS as u64, "CLONE_FS"),
            (libc::CLONE_FILES as u64, "CLONE_FILES"),
            (libc::CLONE_SIGHAND as u64, "CLONE_SIGHAND"),
            (libc::CLONE_PIDFD as u64, "CLONE_PIDFD"),
            (libc::CLONE_PTRACE as u64, "CLONE_PTRACE"),
            (libc::CLONE_VFORK as u64, "CLONE_VFORK"),
            (libc::CLONE_PARENT as u64, "CLONE_PARENT"),
            (libc::CLONE_THREAD as u64, "CLONE_THREAD"),
            (libc::CLONE_NEWNS as u64, "CLONE_NEWNS"),
            (libc::CLONE_SYSVSEM as u64, "CLONE_SYSVSEM"),
            (libc::CLONE_SETTLS as u64, "CLONE_SETTLS"),
            (libc::CLONE_PARENT_SETTID as u64, "CLONE_PARENT_SETTID"),
            (libc::CLONE_CHILD_CLEARTID as u64, "CLONE_CHILD_CLEARTID"),
            (libc::CLONE_UNTRACED as u64, "CLONE_UNTRACED"),
            (libc::CLONE_CHILD_SETTID as u64, "CLONE_CHILD_SETTID"),
            (libc::CLONE_NEWCGROUP as u64, "CLONE_NEWCGROUP"),
            (libc::CLONE_NEWUTS as u64, "CLONE_NEWUTS"),
            (libc::CLONE_NEWIPC as u64, "CLONE_NEWIPC"),
            (libc::CLONE_NEWUSER as u64, "CLONE_NEWUSER"),
            (libc::CLONE_NEWPID as u64, "CLONE_NEWPID"),
            (libc::CLONE_NEWNET as u64, "CLONE_NEWNET"),
            (libc::CLONE_IO as u64, "CLONE_IO"),
        ];
        let signal = (self.0 & 0xff) as i32;
        let rest = self.0 & !0xff;
        if rest != 0 || signal == 0 {
            flags(f, rest, NAMES, "0")?;
        }
        match (rest, signal) {
            (_, 0) => Ok(()),
            (0, sig) => write!(f, "{}", Signal(sig)),
            (_, sig) => write!(f, "|{}", Signal(sig)),
        }
    }
}

/// unshare(2)/setns(2) flags: `CLONE_NEWUTS|CLONE_NEWTIME`. Unlike clone's,
/// their low byte is no exit signal, so `CLONE_NEWTIME` (0x80) has a name.
pub struct NsFlags(pub i32);

impl fmt::Display for NsFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: &[(u64, &str)] = &[
            (libc::CLONE_NEWTIME as u64, "CLONE_NEWTIME"),
            (libc::CLONE_FS as u64, "CLONE_FS"),
            (libc::CLONE_FILES as u64, "CLONE_FILES"),
            (libc::CLONE_NEWNS as u64, "CLONE_NEWNS"),
            (libc::CLONE_SYSVSEM as u64, "CLONE_SYSVSEM"),
            (libc::CLONE_NEWCGROUP as u64, "CLONE_NEWCGROUP"),
            (libc::CLONE_NEWUTS as u64, "CLONE_NEWUTS"),
            (libc::CLONE_NEWIPC as u64, "CLONE_NEWIPC"),
            (libc::CLONE_NEWUSER as u64, "CLONE_NEWUSER"),
            (libc::CLONE_NEWPID as u64, "CLONE_NEWPID"),
            (libc::CLONE_NEWNET as u64, "CLONE_NEWNET"),
        ];
        flags(f, self.0 as u32 as u64, NAMES, "0")
    }
}

/// mount(2) flags: `MS_REC|MS_PRIVATE`, `MS_NOSUID|MS_NODEV|MS_NOEXEC`.
pub struct MountFlags(pub u64);

impl fmt::Display for MountFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: &[(u64, &str)] = &[
            (libc::MS_RDONLY, "MS_RDONLY"),
            (libc::MS_NOSUID, "MS_NOSUID"),
            (libc::MS_NODEV, "MS_NODEV"),
            (libc::MS_NOEXEC, "MS_NOEXEC"),
            (libc::MS_SYNCHRONOUS, "MS_SYNCHRONOUS"),
            (libc::MS_REMOUNT, "MS_REMOUNT"),
            (libc::MS_MANDLOCK, "MS_MANDLOCK"),
            (libc::MS_DIRSYNC, "MS_DIRSYNC"),
            (libc::MS_NOATIME, "MS_NOATIME"),
            (libc::MS_NODIRATIME, "MS_NODIRATIME"),
            (libc::MS_BIND, "MS_BIND"),
            (libc::MS_MOVE, "MS_MOVE"),
            (libc::MS_REC, "MS_REC"),
            (libc::MS_SILENT, "MS_SILENT"),
            (libc::MS_POSIXACL, "MS_POSIXACL"),
            (libc::MS_UNBINDABLE, "MS_UNBINDABLE"),
            (libc::MS_PRIVATE, "MS_PRIVATE"),
            (libc::MS_SLAVE, "MS_SLAVE"),
            (libc::MS_SHARED, "MS_SHARED"),
            (libc::MS_RELATIME, "MS_RELATIME"),
            (libc::MS_STRICTATIME, "MS_STRICTATIME"),
            (libc::MS_LAZYTIME, "MS_LAZYTIME"),
        ];
        flags(f, self.0, NAMES, "0")
    }
}

/// open(2) flags: the access mode, then the others: `O_WRONLY|O_CLOEXEC`.
pub struct OpenFlags(pub i32);

impl fmt::Display for OpenFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: &[(u64, &str)] = &[
            (libc::O_CREAT as u64, "O_CREAT"),
            (libc::O_EXCL as u64, "O_EXCL"),
            (libc::O_NOCTTY as u64, "O_NOCTTY"),
            (libc::O_TRUNC as u64, "O_TRUNC"),
            (libc::O_APPEND as u64, "O_APPEND"),
            (libc::O_NONBLOCK as u64, "O_NONBLOCK"),
            (libc::O_DIRECTORY as u64, "O_DIRECTORY"),
            (libc::O_NOFOLLOW as u64, "O_NOFOLLOW"),
            (libc::O_CLOEXEC as u64, "O_CLOEXEC"),
            (libc::O_PATH as u64, "O_PATH"),
        ];
        let mode = match self.0 & libc::O_ACCMODE {
            libc::O_RDONLY => "O_RDONLY",
            libc::O_WRONLY => "O_WRONLY",
            _ => "O_RDWR",
        };
        f.write_str(mode)?;
        let rest = (self.0 & !libc::O_ACCMODE) as u32 as u64;
        if rest != 0 {
            f.write_char('|')?;
            flags(f, rest, NAMES, "0")?;
        }
        Ok(())
    }
}

/// Why a file under `/proc` is written or opened, for the files whose
/// writing is a step of a namespace's setup; `""` for any other.
pub fn proc_file_why(path: &[u8]) -> &'static str {
    if path.ends_with(b"/uid_map") {
        "the child's uid map: uid 0 inside is the caller's uid outside"
    } else if path.ends_with(b"/setgroups") {
        "\"deny\" must come before gid_map when the writer is not privileged"
    } else if path.ends_with(b"/gid_map") {
        "the child's gid map: gid 0 inside is the caller's gid outside"
    } else if path.ends_with(b"/timens_offsets") {
        "clock offsets: writable only while no process is in the new time namespace"
    } else if path.ends_with(b"/time_for_children") {
        "kept open, to return to it with setns(2)"
    } else {
        ""
    }
}

/// Network interface flags (`IFF_*`, netdevice(7)): `IFF_UP|IFF_LOOPBACK`.
pub struct IfaceFlags(pub i16);

impl fmt::Display for IfaceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: &[(u64, &str)] = &[
            (libc::IFF_UP as u64, "IFF_UP"),
            (libc::IFF_BROADCAST as u64, "IFF_BROADCAST"),
            (libc::IFF_DEBUG as u64, "IFF_DEBUG"),
            (libc::IFF_LOOPBACK as u64, "IFF_LOOPBACK"),
            (libc::IFF_POINTOPOINT as u64, "IFF_POINTOPOINT"),
            (libc::IFF_NOTRAILERS as u64, "IFF_NOTRAILERS"),
            (libc::IFF_RUNNING as u64, "IFF_RUNNING"),
            (libc::IFF_NOARP as u64, "IFF_NOARP"),
            (libc::IFF_PROMISC as u64, "IFF_PROMISC"),
            (libc::IFF_ALLMULTI as u64, "IFF_ALLMULTI"),
            (libc::IFF_MASTER as u64, "IFF_MASTER"),
            (libc::IFF_SLAVE as u64, "IFF_SLAVE"),
            (libc::IFF_MULTICAST as u64, "IFF_MULTICAST"),
            (libc::IFF_PORTSEL as u64, "IFF_PORTSEL"),
            (libc::IFF_AUTOMEDIA as u64, "IFF_AUTOMEDIA"),
            (libc::IFF_DYNAMIC as u64, "IFF_DYNAMIC"),
        ];
        flags(f, self.0 as u16 as u64, NAMES, "0")
    }
}

/// poll(2) events: `POLLIN`, `POLLHUP`.
pub struct PollEvents(pub i16);

impl fmt::Display for PollEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: &[(u64, &str)] = &[
            (libc::POLLIN as u64, "POLLIN"),
            (libc::POLLPRI as u64, "POLLPRI"),
            (libc::POLLOUT as u64, "POLLOUT"),
            (libc::POLLERR as u64, "POLLERR"),
            (libc::POLLHUP as u64, "POLLHUP"),
            (libc::POLLNVAL as u64, "POLLNVAL"),
        ];
        flags(f, self.0 as u16 as u64, NAMES, "0")
    }
}

/// A signal by name: `SIGTERM`.
pub struct Signal(pub i32);

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // strace's names: SIGRTMIN for 32, then SIGRT_1 and on.
        match self.0 {
            1..=31 => f.write_str(signal::name(self.0)),
            32 => f.write_str("SIGRTMIN"),
            sig => write!(f, "SIGRT_{}", sig - 32),
        }
    }
}

/// A signal set as strace prints it: `[HUP INT TERM]`, or `~[KILL STOP]`
/// for "every signal but these" when more than half are in it.
pub struct Sigset(pub SigSet);

impl fmt::Display for Sigset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bits = self.0.bits();
        let (shown, prefix) = if bits.count_ones() > 32 {
            (!bits, "~[")
        } else {
            (bits, "[")
        };
        f.write_str(prefix)?;
        let mut first = true;
        for sig in 1..=64 {
            if shown & (1 << (sig - 1)) == 0 {
                continue;
            }
            if !first {
                f.write_char(' ')?;
            }
            first = false;
            match sig {
                1..=31 => f.write_str(&signal::name(sig)[3..])?,
                32 => f.write_str("RTMIN")?,
                _ => write!(f, "RT_{}", sig - 32)?,
            }
        }
        f.write_char(']')
    }
}

/// A raw wait status, as strace decodes it with the `W*` macros of wait(2):
/// `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`.
pub struct Status(pub i32);

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match WaitStatus::from_raw(self.0) {
            WaitStatus::Exited(code) => {
                write!(f, "[{{WIFEXITED(s) && WEXITSTATUS(s) == {code}}}]")
            }
            WaitStatus::Signaled {
                signal,
                core_dumped,
            } => {
                let core = if core_dumped { " && WCOREDUMP(s)" } else { "" };
                write!(
                    f,
                    "[{{WIFSIGNALED(s) && WTERMSIG(s) == {}{core}}}]",
                    Signal(signal)
                )
            }
            WaitStatus::Stopped(sig) => {
                write!(f, "[{{WIFSTOPPED(s) && WSTOPSIG(s) == {}}}]", Signal(sig))
            }
            WaitStatus::Continued => f.write_str("[{WIFCONTINUED(s)}]"),
        }
    }
}

/// What wait4(2)'s status means, for the why: where the kernel put what.
pub struct StatusMeaning(pub i32);

impl fmt::Display for StatusMeaning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = WaitStatus::from_raw(self.0);
        write!(f, "status {:#06x}: {status}", self.0)?;
        match status {
            WaitStatus::Exited(_) => f.write_str(" (the exit code is its second byte)"),
            WaitStatus::Signaled { .. } => f.write_str(" (the signal is its low 7 bits)"),
            _ => Ok(()),
        }
    }
}

/// A `siginfo_t` as rt_sigtimedwait(2) filled it: who sent the signal, and
/// how (`si_code`: `SI_USER` for kill(2), `SI_KERNEL` for the terminal,
/// `CLD_*` for a child's change of state).
pub struct SigInfo<'a>(pub &'a libc::siginfo_t);

impl fmt::Display for SigInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let info = self.0;
        let code = match (info.si_signo, info.si_code) {
            (libc::SIGCHLD, libc::CLD_EXITED) => "CLD_EXITED",
            (libc::SIGCHLD, libc::CLD_KILLED) => "CLD_KILLED",
            (libc::SIGCHLD, libc::CLD_DUMPED) => "CLD_DUMPED",
            (libc::SIGCHLD, libc::CLD_TRAPPED) => "CLD_TRAPPED",
            (libc::SIGCHLD, libc::CLD_STOPPED) => "CLD_STOPPED",
            (libc::SIGCHLD, libc::CLD_CONTINUED) => "CLD_CONTINUED",
            (_, libc::SI_USER) => "SI_USER",
            (_, libc::SI_KERNEL) => "SI_KERNEL",
            (_, libc::SI_QUEUE) => "SI_QUEUE",
            (_, libc::SI_TKILL) => "SI_TKILL",
            _ => "",
        };
        write!(f, "{{si_signo={}, si_code=", Signal(info.si_signo))?;
        match code {
            "" => write!(f, "{}", info.si_code)?,
            name => f.write_str(name)?,
        }
        if info.si_code <= 0 || info.si_signo == libc::SIGCHLD {
            // SAFETY: for signals sent by a process (si_code <= 0) and for
            // SIGCHLD, the kernel fills the sender's pid and uid.
            let (pid, uid) = unsafe { (info.si_pid(), info.si_uid()) };
            write!(f, ", si_pid={pid}, si_uid={uid}")?;
        }
        f.write_str(", ...}")
    }
}

/// An `argv` array: `["ls", "-l"]`, at most eight strings shown.
pub struct Argv(*const *const c_char);

impl Argv {
    /// Show the NULL-terminated array at `argv`.
    ///
    /// # Safety
    /// `argv` must be a NULL-terminated array of pointers to NUL-terminated
    /// strings, valid while the `Argv` is printed.
    pub unsafe fn new(argv: *const *const c_char) -> Argv {
        Argv(argv)
    }

    /// How many strings the array holds.
    fn len(&self) -> usize {
        let mut n = 0;
        // SAFETY: `new`'s contract: the array ends with a NULL.
        while !unsafe { *self.0.add(n) }.is_null() {
            n += 1;
        }
        n
    }
}

impl fmt::Display for Argv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 8;
        let len = self.len();
        f.write_char('[')?;
        for i in 0..len.min(SHOWN) {
            if i > 0 {
                f.write_str(", ")?;
            }
            // SAFETY: `i < len`, and each entry is a NUL-terminated string.
            let s = unsafe { CStr::from_ptr(*self.0.add(i)) };
            write!(f, "{}", Str::c(s))?;
        }
        if len > SHOWN {
            f.write_str(", ...")?;
        }
        f.write_char(']')
    }
}

/// An `envp` array as strace shows it: its address and how many variables
/// it holds, `0x55d0c8a0 /* 5 vars */`.
pub struct Envp(Argv);

impl Envp {
    /// Show the NULL-terminated array at `envp`.
    ///
    /// # Safety
    /// As for [`Argv::new`].
    pub unsafe fn new(envp: *const *const c_char) -> Envp {
        Envp(Argv(envp))
    }
}

impl fmt::Display for Envp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} /* {} vars */", Ptr(self.0.0 as usize), self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Format with `Display` into a `Line`, as the child would.
    fn show(value: impl fmt::Display) -> String {
        let mut line = Line::new();
        write!(line, "{value}").unwrap();
        let bytes = line.finish();
        String::from_utf8(bytes[..bytes.len() - 1].to_vec()).unwrap()
    }

    #[test]
    fn flags_are_named_as_strace_names_them() {
        assert_eq!(
            show(Prot(libc::PROT_READ | libc::PROT_WRITE)),
            "PROT_READ|PROT_WRITE"
        );
        assert_eq!(show(Prot(libc::PROT_NONE)), "PROT_NONE");
        let map = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK;
        assert_eq!(show(MapFlags(map)), "MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK");
        let clone = libc::CLONE_NEWUTS as u64 | libc::SIGCHLD as u64;
        assert_eq!(show(CloneFlags(clone)), "CLONE_NEWUTS|SIGCHLD");
        let vfork = (libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_NEWPID) as u64;
        assert_eq!(
            show(CloneFlags(vfork | libc::SIGCHLD as u64)),
            "CLONE_VM|CLONE_VFORK|CLONE_NEWPID|SIGCHLD"
        );
        assert_eq!(show(CloneFlags(0)), "0");
        assert_eq!(show(Prot(0x1000_0000)), "0x10000000");
    }

    #[test]
    fn strings_are_quoted_and_escaped_like_strace() {
        assert_eq!(show(Str(b"newhostname")), "\"newhostname\"");
        assert_eq!(show(Str(b"a\"b\\c\n")), r#""a\"b\\c\n""#);
        assert_eq!(show(Str(&[5, 0, 0, 0])), r#""\5\0\0\0""#);
        assert_eq!(show(Str(&[1, b'2', 0xff])), r#""\0012\377""#);
        let long = [b'x'; 200];
        assert_eq!(show(Str(&long)), format!("\"{}\"...", "x".repeat(STR_MAX)));
    }

    #[test]
    fn signal_sets_read_like_strace() {
        let set = SigSet::EMPTY.with(libc::SIGHUP).with(libc::SIGCHLD);
        assert_eq!(show(Sigset(set)), "[HUP CHLD]");
        assert_eq!(show(Sigset(SigSet::EMPTY)), "[]");
        assert_eq!(show(Sigset(SigSet::ALL)), "~[]");
        let all_but = SigSet::from_bits(!SigSet::EMPTY.with(9).with(19).bits());
        assert_eq!(show(Sigset(all_but)), "~[KILL STOP]");
        assert_eq!(show(Sigset(SigSet::EMPTY.with(34))), "[RT_2]");
    }

    #[test]
    fn results_and_errnos() {
        assert_eq!(show(Ret::Dec(&Ok(4712))), " = 4712");
        assert_eq!(show(Ret::Hex(&Ok(0x7f00_0000_1000))), " = 0x7f0000001000");
        assert_eq!(show(Ret::Signal(&Ok(17))), " = 17 (SIGCHLD)");
        assert_eq!(
            show(Ret::Dec(&Err(Errno::ENOENT))),
            " = -1 ENOENT (No such file or directory)"
        );
        assert_eq!(show(Ret::NoReturn), " = ?");
        assert_eq!(show(Ret::Unfinished), " <unfinished ...>");
    }

    #[test]
    fn wait_statuses_read_like_strace() {
        assert_eq!(show(Status(0)), "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]");
        assert_eq!(
            show(Status(libc::SIGSEGV | 0x80)),
            "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]"
        );
        assert_eq!(
            show(StatusMeaning(42 << 8)),
            "status 0x2a00: exited with 42 (the exit code is its second byte)"
        );
    }

    #[test]
    fn argv_and_envp() {
        let strings = [c"ls".as_ptr(), c"-l".as_ptr(), core::ptr::null()];
        // SAFETY: a NULL-terminated array of C string literals.
        let (argv, envp) = unsafe { (Argv::new(strings.as_ptr()), Envp::new(strings.as_ptr())) };
        assert_eq!(show(argv), r#"["ls", "-l"]"#);
        assert_eq!(
            show(envp),
            format!("{:#x} /* 2 vars */", strings.as_ptr() as usize)
        );
    }

    #[test]
    fn long_lines_are_cut_not_overflowed() {
        let mut line = Line::new();
        for _ in 0..LINE_MAX {
            write!(line, "ab").unwrap();
        }
        let bytes = line.finish();
        assert_eq!(bytes.len(), LINE_MAX);
        assert!(bytes.ends_with(b"ab...\n") || bytes.ends_with(b"a...\n"));
        let mut short = Line::new();
        write!(short, "x").unwrap();
        assert_eq!(short.finish(), b"x\n");
    }
}
