//! strace's notation: how a system call's arguments and results are
//! written, so that nsclone's trace can be read, and checked, beside
//! `strace -f`.
//!
//! Each type here wraps a raw value and displays it as strace(1) does:
//! flags by name joined with `|` ([`CloneFlags`]: `CLONE_NEWUTS|SIGCHLD`),
//! strings quoted and escaped in C's way ([`Str`]), signal sets in brackets
//! ([`Sigset`]: `[HUP INT TERM]`), wait statuses with the `W*` macros of
//! wait(2) ([`Status`]), errnos by name and meaning ([`ErrnoName`]). They
//! are plain data: no system call, no allocation, so the child may format
//! them; [`crate::trace`] writes the lines.

use core::ffi::{CStr, c_char};
use core::fmt::{self, Write};

use syscalls::Errno;

use crate::signal::{self, SigSet};
use crate::wait::WaitStatus;

/// The longest string argument shown, in bytes, before `...`.
const STR_MAX: usize = 96;

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

/// A device number (`st_dev`) as strace prints it: `makedev(0, 0x4)`,
/// major and minor in hex (0 plain), split as glibc's `major`/`minor` do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dev(pub u64);

impl Dev {
    /// The major number: bits 8 to 19, then bits 44 to 63.
    pub const fn major(self) -> u64 {
        (self.0 >> 8) & 0xfff | (self.0 >> 32) & 0xffff_f000
    }

    /// The minor number: bits 0 to 7, then bits 20 to 43.
    pub const fn minor(self) -> u64 {
        self.0 & 0xff | (self.0 >> 12) & 0xffff_ff00
    }
}

impl fmt::Display for Dev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = |f: &mut fmt::Formatter<'_>, n: u64| match n {
            0 => f.write_str("0"),
            n => write!(f, "{n:#x}"),
        };
        f.write_str("makedev(")?;
        hex(f, self.major())?;
        f.write_str(", ")?;
        hex(f, self.minor())?;
        f.write_char(')')
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

/// umount2(2) flags: `MNT_DETACH`, `MNT_DETACH|UMOUNT_NOFOLLOW`, `0`.
pub struct UmountFlags(pub i32);

impl fmt::Display for UmountFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: &[(u64, &str)] = &[
            (libc::MNT_FORCE as u64, "MNT_FORCE"),
            (libc::MNT_DETACH as u64, "MNT_DETACH"),
            (libc::MNT_EXPIRE as u64, "MNT_EXPIRE"),
            (libc::UMOUNT_NOFOLLOW as u64, "UMOUNT_NOFOLLOW"),
        ];
        flags(f, self.0 as u32 as u64, NAMES, "0")
    }
}

/// The part of a `struct stat` strace shows by default: the type and mode,
/// then the size, or for a device its number:
/// `{st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}`.
pub struct StatShort<'a>(pub &'a libc::stat);

impl fmt::Display for StatShort<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const TYPES: &[(u32, &str)] = &[
            (libc::S_IFREG, "S_IFREG"),
            (libc::S_IFDIR, "S_IFDIR"),
            (libc::S_IFLNK, "S_IFLNK"),
            (libc::S_IFCHR, "S_IFCHR"),
            (libc::S_IFBLK, "S_IFBLK"),
            (libc::S_IFIFO, "S_IFIFO"),
            (libc::S_IFSOCK, "S_IFSOCK"),
        ];
        const BITS: &[(u64, &str)] = &[
            (libc::S_ISUID as u64, "S_ISUID"),
            (libc::S_ISGID as u64, "S_ISGID"),
            (libc::S_ISVTX as u64, "S_ISVTX"),
        ];
        let mode = self.0.st_mode;
        let kind = mode & libc::S_IFMT;
        f.write_str("{st_mode=")?;
        match TYPES.iter().find(|&&(t, _)| t == kind) {
            Some((_, name)) => write!(f, "{name}|")?,
            None => write!(f, "{kind:#o}|")?,
        }
        let special = (mode & 0o7000) as u64;
        if special != 0 {
            flags(f, special, BITS, "")?;
            f.write_char('|')?;
        }
        write!(f, "0{:03o}", mode & 0o777)?;
        if kind == libc::S_IFCHR || kind == libc::S_IFBLK {
            write!(f, ", st_rdev={}, ...}}", Dev(self.0.st_rdev))
        } else {
            write!(f, ", st_size={}, ...}}", self.0.st_size)
        }
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
            (libc::O_NOFOLLOW as u64, "O_NOFOLLOW"),
            (libc::O_CLOEXEC as u64, "O_CLOEXEC"),
            (libc::O_PATH as u64, "O_PATH"),
            // After O_PATH, as strace 6.1 lists them.
            (libc::O_DIRECTORY as u64, "O_DIRECTORY"),
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

/// poll(2) structures as strace shows them as arguments:
/// `[{fd=0, events=0}, {fd=3, events=POLLIN}]`. strace shows the events
/// that came after the result, `= 1 ([{fd=3, revents=POLLHUP}])`; the trace
/// shows only their count.
pub struct PollFds<'a>(pub &'a [libc::pollfd]);

impl fmt::Display for PollFds<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('[')?;
        for (i, pfd) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{{fd={}, events={}}}", pfd.fd, PollEvents(pfd.events))?;
        }
        f.write_char(']')
    }
}

/// poll(2) events: `POLLIN`, `POLLHUP`.
struct PollEvents(i16);

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
        write!(f, "SIG{}", Abbrev(self.0))
    }
}

/// A signal's name without `SIG`, as strace writes it in a set: `TERM`.
/// Past the standard signals, strace's names: `RTMIN` for 32, then `RT_1`
/// and on.
struct Abbrev(i32);

impl fmt::Display for Abbrev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1..=31 => f.write_str(&signal::name(self.0)[3..]),
            32 => f.write_str("RTMIN"),
            sig => write!(f, "RT_{}", sig - 32),
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
            write!(f, "{}", Abbrev(sig))?;
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

    /// Format with `Display` into a fixed buffer, as the child would.
    fn show(value: impl fmt::Display) -> String {
        let mut buf = crate::text::FixedBuf::<1024>::new();
        write!(buf, "{value}").unwrap();
        String::from_utf8(buf.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn stat_and_umount_are_shown_as_strace_6_shows_them() {
        // As `strace -e trace=newfstatat,umount2` printed them here.
        let stat = |path: &str| {
            std::fs::metadata(path).map(|_| ()).ok().map(|()| {
                let c = std::ffi::CString::new(path).unwrap();
                // SAFETY: a zeroed stat is a valid value for stat(2) to fill.
                let mut st: libc::stat = unsafe { core::mem::zeroed() };
                // SAFETY: `c` is a C string, `st` a place for the answer.
                assert_eq!(unsafe { libc::stat(c.as_ptr(), &mut st) }, 0);
                st
            })
        };
        let null = stat("/dev/null").unwrap();
        assert_eq!(
            show(StatShort(&null)),
            "{st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}"
        );
        let mut major_0 = null;
        major_0.st_rdev = libc::makedev(0, 4);
        assert_eq!(
            show(StatShort(&major_0)),
            "{st_mode=S_IFCHR|0666, st_rdev=makedev(0, 0x4), ...}"
        );
        let mut dir = null;
        dir.st_mode = libc::S_IFDIR | libc::S_ISVTX | 0o777;
        dir.st_size = 4096;
        assert_eq!(
            show(StatShort(&dir)),
            "{st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}"
        );
        dir.st_mode = libc::S_IFREG | libc::S_ISUID | 0o755;
        assert_eq!(
            show(StatShort(&dir)),
            "{st_mode=S_IFREG|S_ISUID|0755, st_size=4096, ...}"
        );
        assert_eq!(show(UmountFlags(libc::MNT_DETACH)), "MNT_DETACH");
        let both = libc::MNT_DETACH | libc::UMOUNT_NOFOLLOW;
        assert_eq!(show(UmountFlags(both)), "MNT_DETACH|UMOUNT_NOFOLLOW");
        assert_eq!(show(UmountFlags(0)), "0");
    }

    #[test]
    fn devices_are_split_as_libc_splits_them() {
        for dev in [0, 4, 0x801, 0xfd_0002, 0x1234_5678_9abc_def0, u64::MAX] {
            let shown = Dev(dev);
            assert_eq!(shown.major(), libc::major(dev) as u64, "{dev:#x}");
            assert_eq!(shown.minor(), libc::minor(dev) as u64, "{dev:#x}");
        }
        assert_eq!(show(Dev(4)), "makedev(0, 0x4)");
        assert_eq!(show(Dev(0x801)), "makedev(0x8, 0x1)");
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
        let pollfd = |fd, events| libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        assert_eq!(
            show(PollFds(&[pollfd(0, 0), pollfd(3, libc::POLLIN)])),
            "[{fd=0, events=0}, {fd=3, events=POLLIN}]"
        );
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
        assert_eq!(show(Sigset(SigSet::EMPTY.with(32))), "[RTMIN]");
        assert_eq!(show(Signal(libc::SIGTERM)), "SIGTERM");
        assert_eq!(show(Signal(32)), "SIGRTMIN");
        assert_eq!(show(Signal(34)), "SIGRT_2");
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
}
