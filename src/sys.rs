//! Every system call nsclone makes, behind one typed function each.
//!
//! This is the only module that talks to the kernel, with two exceptions
//! that cannot be ordinary calls here: the clone trampoline
//! ([`crate::arch`], [`crate::clone`]), and the write(2) of each trace line
//! ([`crate::trace`]). Each function makes exactly one raw system call through
//! the `syscalls` crate and returns the kernel's answer: a value, or the
//! [`Errno`] it reported. Nothing here allocates, takes a lock or touches
//! thread-local state, so every function is safe to call in the child between
//! clone and exec. `libc` supplies only types and constants.
//!
//! The man page of each call is named in its documentation: `man 2 NAME`.
//!
//! Each function also tells its call to [`crate::trace`]: right after the
//! system call, one `trace!` line with the call decoded, its result and, for
//! the key steps, why it is made. That line is a no-op unless `--trace` is
//! on. A new function here gets traced the same way; see the module
//! documentation of [`crate::trace`]. Where the reason for a call depends on
//! who makes it (a pipe, a mapping, a kill), the caller gives it (`why`).

use core::ffi::{CStr, c_char};
use core::mem::MaybeUninit;

use syscalls::{Errno, Sysno, syscall};

use crate::arch;
use crate::signal::{Disposition, SigSet};
use crate::strace::{
    Argv, CChars, Dev, Envp, Filled, IfaceFlags, MapFlags, MountFlags, NsFlags, OpenFlags, OptStr,
    PollFds, Prot, SigInfo, Signal, Sigset, StatShort, Status, StatusMeaning, Str, UmountFlags,
};
use crate::trace::{self, Ret, trace};
use crate::wait::WaitStatus;

/// A process id, as the kernel counts them (`pid_t`).
pub type Pid = i32;

/// A file descriptor that nsclone opened and closes when dropped.
///
/// `std::os::fd::OwnedFd` would close through libc; this one uses the raw
/// close(2), so the child may drop or close it too.
#[derive(Debug)]
pub struct Fd(i32);

impl Fd {
    /// The raw descriptor number.
    pub fn raw(&self) -> i32 {
        self.0
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        close(self.0);
    }
}

/// getpid(2): the caller's process id, as its PID namespace counts it.
///
/// The trace learns from it who speaks: its line, and every later one, is
/// signed with the pid it returned.
pub fn getpid() -> Pid {
    // SAFETY: getpid takes no arguments and cannot fail.
    let ret = unsafe { syscall!(Sysno::getpid) };
    let pid = ret.map_or(0, |pid| pid as Pid);
    if trace::enabled() {
        trace::heard_pid(pid);
    }
    trace!("getpid()" => &ret; "the trace signs each line with the pid a process sees for itself");
    pid
}

/// getresuid(2): the caller's real, effective and saved user ids.
pub fn getresuid() -> (u32, u32, u32) {
    let mut ids = [0u32; 3];
    // SAFETY: the kernel writes one uid into each of the three pointers,
    // which point into `ids`; it cannot fail with valid pointers.
    let ret = unsafe {
        syscall!(
            Sysno::getresuid,
            ids.as_mut_ptr(),
            ids.as_mut_ptr().add(1),
            ids.as_mut_ptr().add(2)
        )
    };
    trace!("getresuid([{}], [{}], [{}])", ids[0], ids[1], ids[2] => &ret;
        "real, effective, saved: a set-user-ID nsclone would see them differ");
    (ids[0], ids[1], ids[2])
}

/// getresgid(2): the caller's real, effective and saved group ids.
pub fn getresgid() -> (u32, u32, u32) {
    let mut ids = [0u32; 3];
    // SAFETY: as for getresuid, with gids.
    let ret = unsafe {
        syscall!(
            Sysno::getresgid,
            ids.as_mut_ptr(),
            ids.as_mut_ptr().add(1),
            ids.as_mut_ptr().add(2)
        )
    };
    trace!("getresgid([{}], [{}], [{}])", ids[0], ids[1], ids[2] => &ret);
    (ids[0], ids[1], ids[2])
}

/// prctl(2) `PR_SET_PDEATHSIG`: have the kernel send `sig` to the caller
/// when its parent *thread* exits (not only when the whole parent process
/// does). The setting survives execve(2), except of a set-user-ID or
/// set-group-ID program or one with file capabilities.
pub fn set_pdeathsig(sig: i32) -> Result<(), Errno> {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number and touches no memory.
    let ret = unsafe { syscall!(Sysno::prctl, libc::PR_SET_PDEATHSIG, sig, 0, 0, 0) };
    trace!("prctl(PR_SET_PDEATHSIG, {})", Signal(sig) => &ret;
        "the kernel sends {} to this process when the thread that cloned it dies",
        Signal(sig));
    ret.map(drop)
}

/// prctl(2) `PR_SET_CHILD_SUBREAPER`: orphaned descendants of the caller are
/// reparented to it rather than to init, so it can wait for them.
pub fn set_child_subreaper() -> Result<(), Errno> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes a flag and touches no memory.
    let ret = unsafe { syscall!(Sysno::prctl, libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    trace!("prctl(PR_SET_CHILD_SUBREAPER, 1)" => &ret;
        "orphans below us are reparented to us, not to init");
    ret.map(drop)
}

/// getppid(2): the process id of the caller's parent, as the caller's PID
/// namespace sees it: 0 when the parent is outside that namespace.
pub fn getppid() -> Pid {
    // SAFETY: getppid takes no arguments and cannot fail.
    let ret = unsafe { syscall!(Sysno::getppid) };
    let why = match ret {
        Ok(0) => "0: the parent is outside this PID namespace",
        _ => "",
    };
    trace!("getppid()" => &ret; "{why}");
    ret.map_or(0, |pid| pid as Pid)
}

/// geteuid(2): the caller's effective user id, which the kernel checks
/// against the uid_map an unprivileged process writes.
pub fn geteuid() -> u32 {
    // SAFETY: geteuid takes no arguments and cannot fail.
    let ret = unsafe { syscall!(Sysno::geteuid) };
    trace!("geteuid()" => &ret);
    ret.map_or(u32::MAX, |id| id as u32)
}

/// getegid(2): the caller's effective group id.
pub fn getegid() -> u32 {
    // SAFETY: getegid takes no arguments and cannot fail.
    let ret = unsafe { syscall!(Sysno::getegid) };
    trace!("getegid()" => &ret);
    ret.map_or(u32::MAX, |id| id as u32)
}

/// mmap(2) of private anonymous memory: fresh pages, zeroed, backed only
/// once touched.
///
/// Returns the address of `len` bytes mapped with `prot` and `flags`
/// (`MAP_PRIVATE | MAP_ANONYMOUS` are always added).
pub fn mmap_anonymous(len: usize, prot: i32, flags: i32, why: &str) -> Result<*mut u8, Errno> {
    let flags = flags | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    // SAFETY: a NULL hint with anonymous memory maps fresh pages where the
    // kernel chooses; it cannot replace any existing mapping.
    let ret = unsafe { syscall!(Sysno::mmap, 0, len, prot, flags, -1i32, 0) };
    trace!("mmap(NULL, {len}, {}, {}, -1, 0)", Prot(prot), MapFlags(flags) => Ret::Hex(&ret);
        "{why}");
    ret.map(|addr| addr as *mut u8)
}

/// mprotect(2): change the protection of whole pages.
///
/// # Safety
/// `addr..addr + len` must be memory this process mapped and that nothing
/// still uses with the old protection.
pub unsafe fn mprotect(addr: *mut u8, len: usize, prot: i32) -> Result<(), Errno> {
    // SAFETY: the caller guarantees the range is ours to change.
    let ret = unsafe { syscall!(Sysno::mprotect, addr, len, prot) };
    let why = match prot {
        libc::PROT_NONE => {
            "the guard page: the stack grows down, so an overflow faults here \
             instead of overwriting other memory"
        }
        _ => "",
    };
    trace!("mprotect({addr:p}, {len}, {})", Prot(prot) => &ret; "{why}");
    ret.map(drop)
}

/// munmap(2): give pages back to the kernel.
///
/// # Safety
/// `addr..addr + len` must be a mapping this process made and nothing may
/// use it afterwards.
pub unsafe fn munmap(addr: *mut u8, len: usize, why: &str) -> Result<(), Errno> {
    // SAFETY: the caller guarantees nothing uses the range any more.
    let ret = unsafe { syscall!(Sysno::munmap, addr, len) };
    trace!("munmap({addr:p}, {len})" => &ret; "{why}");
    ret.map(drop)
}

/// pipe2(2) with `O_CLOEXEC`: a pipe whose ends close by themselves at exec.
///
/// Returns `(read end, write end)`.
pub fn pipe_cloexec(why: &str) -> Result<(Fd, Fd), Errno> {
    let mut fds = [-1i32; 2];
    // SAFETY: the kernel writes two ints into `fds`, which has room for them.
    let ret = unsafe { syscall!(Sysno::pipe2, fds.as_mut_ptr(), libc::O_CLOEXEC) };
    trace!("pipe2([{}, {}], O_CLOEXEC)", fds[0], fds[1] => &ret; "{why}");
    ret.map(|_| (Fd(fds[0]), Fd(fds[1])))
}

/// read(2), retried when a signal interrupts it.
pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        let ret = unsafe { syscall!(Sysno::read, fd, buf.as_mut_ptr(), buf.len()) };
        let why = match ret {
            Ok(0) => "end-of-file: every write end is closed (exec closes O_CLOEXEC ones)",
            _ => "",
        };
        trace!("read({fd}, {}, {})", Filled { buf, ret: &ret }, buf.len() => &ret; "{why}");
        match ret {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// write(2), retried when a signal interrupts it.
pub fn write(fd: i32, buf: &[u8]) -> Result<usize, Errno> {
    loop {
        // SAFETY: the kernel reads at most `buf.len()` bytes from `buf`.
        let ret = unsafe { syscall!(Sysno::write, fd, buf.as_ptr(), buf.len()) };
        trace!("write({fd}, {}, {})", Str(buf), buf.len() => &ret);
        match ret {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// ppoll(2) without waiting: which of `fds` are ready now. Fills each
/// `revents` and returns how many have events. `POLLHUP` on a pipe's read
/// end means every write end is closed; `POLLNVAL`, that a descriptor is
/// not open.
pub fn poll_now(fds: &mut [libc::pollfd], why: &str) -> Result<usize, Errno> {
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: the kernel reads and updates `fds.len()` pollfd structures in
    // `fds` and reads one timespec; no signal mask is passed.
    let ret = unsafe {
        syscall!(
            Sysno::ppoll,
            fds.as_mut_ptr(),
            fds.len(),
            &zero as *const libc::timespec,
            0,
            0
        )
    };
    trace!("ppoll({}, {}, {{tv_sec=0, tv_nsec=0}}, NULL, 0)", PollFds(fds), fds.len() => &ret;
        "{why}");
    ret
}

/// close(2). Errors are ignored: the descriptor is gone either way.
pub fn close(fd: i32) {
    // SAFETY: closing a descriptor touches no memory of ours.
    let ret = unsafe { syscall!(Sysno::close, fd) };
    trace!("close({fd})" => &ret);
}

/// newfstatat(2) on a path: the file's metadata (`stat(2)`).
pub fn stat(path: &CStr) -> Result<libc::stat, Errno> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    let buf = st.as_mut_ptr();
    // SAFETY: `path` is NUL-terminated and the kernel fills `st`, which has
    // the kernel's `struct stat` layout on this architecture.
    let ret = unsafe { syscall!(Sysno::newfstatat, libc::AT_FDCWD, path.as_ptr(), buf, 0) };
    // SAFETY: on success the kernel filled `st`.
    let st = ret.map(|_| unsafe { st.assume_init() });
    let ns_link = path.to_bytes().strip_prefix(b"/proc/self/ns/");
    match (&st, ns_link) {
        (Ok(st), Some(link)) => trace!(
            "newfstatat(AT_FDCWD, {}, {{st_ino={}, ...}}, 0)", Str::c(path), st.st_ino => &ret;
            "{}:[{}]: a namespace is known by its device and inode",
            core::str::from_utf8(link).unwrap_or("?"), st.st_ino),
        (Ok(st), None) if path.to_bytes() == b"/proc/self/task" => trace!(
            "newfstatat(AT_FDCWD, {}, {{st_ino={}, st_nlink={}, ...}}, 0)",
            Str::c(path), st.st_ino, st.st_nlink => &ret;
            "{} thread(s): a directory's st_nlink is 2 plus its subdirectories",
            st.st_nlink.saturating_sub(2)),
        (Ok(st), None) => trace!("newfstatat(AT_FDCWD, {}, {{st_ino={}, st_nlink={}, ...}}, 0)",
            Str::c(path), st.st_ino, st.st_nlink => &ret),
        (Err(_), _) => trace!("newfstatat(AT_FDCWD, {}, {:p}, 0)", Str::c(path), buf => &ret),
    }
    st
}

/// newfstatat(2) on a path, traced as strace shows a stat by default (its
/// type and mode, then its size), with `why`: for checks of a file's kind.
pub fn stat_kind(path: &CStr, why: &str) -> Result<libc::stat, Errno> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    let buf = st.as_mut_ptr();
    // SAFETY: as in `stat`.
    let ret = unsafe { syscall!(Sysno::newfstatat, libc::AT_FDCWD, path.as_ptr(), buf, 0) };
    // SAFETY: on success the kernel filled `st`.
    let st = ret.map(|_| unsafe { st.assume_init() });
    match &st {
        Ok(st) => trace!("newfstatat(AT_FDCWD, {}, {}, 0)", Str::c(path), StatShort(st) => &ret;
            "{why}"),
        Err(_) => trace!("newfstatat(AT_FDCWD, {}, {:p}, 0)", Str::c(path), buf => &ret; "{why}"),
    }
    st
}

/// openat(2) relative to the current directory, with `O_CLOEXEC` added:
/// the descriptor never reaches the command.
pub fn open(path: &CStr, flags: i32, why: &str) -> Result<Fd, Errno> {
    openat(path, flags | libc::O_CLOEXEC, why)
}

/// openat(2) without `O_CLOEXEC`: a descriptor the command inherits.
pub fn open_inherited(path: &CStr, flags: i32, why: &str) -> Result<Fd, Errno> {
    openat(path, flags, why)
}

/// openat(2) with `O_CREAT` and `O_CLOEXEC` added: open `path`, creating it
/// with permissions `mode` (less the umask) if it does not exist.
pub fn open_create(path: &CStr, flags: i32, mode: u32, why: &str) -> Result<Fd, Errno> {
    let flags = flags | libc::O_CREAT | libc::O_CLOEXEC;
    // SAFETY: `path` is NUL-terminated; the mode is a plain number.
    let ret = unsafe { syscall!(Sysno::openat, libc::AT_FDCWD, path.as_ptr(), flags, mode) };
    trace!("openat(AT_FDCWD, {}, {}, 0{mode:o})", Str::c(path), OpenFlags(flags) => &ret;
        "{why}");
    ret.map(|fd| Fd(fd as i32))
}

fn openat(path: &CStr, flags: i32, why: &str) -> Result<Fd, Errno> {
    // SAFETY: `path` is NUL-terminated; no mode is needed without O_CREAT.
    let ret = unsafe { syscall!(Sysno::openat, libc::AT_FDCWD, path.as_ptr(), flags) };
    trace!("openat(AT_FDCWD, {}, {})", Str::c(path), OpenFlags(flags) => &ret; "{why}");
    ret.map(|fd| Fd(fd as i32))
}

/// fstat(2): the metadata of an open file.
pub fn fstat(fd: i32) -> Result<libc::stat, Errno> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    let buf = st.as_mut_ptr();
    // SAFETY: the kernel fills `st`, which has the kernel's `struct stat`
    // layout on this architecture.
    let ret = unsafe { syscall!(Sysno::fstat, fd, buf) };
    // SAFETY: on success the kernel filled `st`.
    let st = ret.map(|_| unsafe { st.assume_init() });
    match &st {
        Ok(st) => {
            trace!("fstat({fd}, {{st_dev={}, st_ino={}, ...}})", Dev(st.st_dev), st.st_ino => &ret;
            "a namespace is known by its device and inode")
        }
        Err(_) => trace!("fstat({fd}, {:p})", buf => &ret),
    }
    st
}

/// pidfd_open(2): a descriptor that refers to process `pid` itself, not
/// to whatever process gets its number later (Linux 5.3).
pub fn pidfd_open(pid: Pid) -> Result<Fd, Errno> {
    // SAFETY: pidfd_open touches no memory of ours.
    let ret = unsafe { syscall!(Sysno::pidfd_open, pid, 0) };
    trace!("pidfd_open({pid}, 0)" => &ret; "a handle on the process itself");
    ret.map(|fd| Fd(fd as i32))
}

/// ioctl(2) `PIDFD_GET_<TYPE>_NAMESPACE` on a pidfd: a descriptor of that
/// process's namespace of the type `request` names (`name`, such as `uts`),
/// as `/proc/PID/ns/NAME` would give (Linux 6.11).
pub fn ioctl_pidfd_namespace(pidfd: i32, request: u64, name: &str) -> Result<Fd, Errno> {
    // SAFETY: these requests take no argument and touch no memory of ours.
    let ret = unsafe { syscall!(Sysno::ioctl, pidfd, request, 0) };
    trace!("ioctl({pidfd}, PIDFD_GET_{}_NAMESPACE, 0)", Upper(name) => &ret;
        "the namespace itself, asked of the pidfd: no /proc needed");
    ret.map(|fd| Fd(fd as i32))
}

/// A name in capitals, for the `PIDFD_GET_*` requests.
struct Upper<'a>(&'a str);

impl core::fmt::Display for Upper<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0
            .chars()
            .try_for_each(|c| core::fmt::Write::write_char(f, c.to_ascii_uppercase()))
    }
}

/// ioctl(2) `NS_GET_NSTYPE` on a namespace descriptor (ioctl_ns(2)): the
/// type of the namespace, as its `CLONE_NEW*` flag (Linux 4.11).
/// `ENOTTY` means the file is no namespace file at all.
pub fn ioctl_ns_type(fd: i32, why: &str) -> Result<i32, Errno> {
    // SAFETY: this request takes no argument and touches no memory of ours.
    let ret = unsafe { syscall!(Sysno::ioctl, fd, libc::NS_GET_NSTYPE) };
    let why = match ret {
        Err(Errno::ENOTTY) => "ENOTTY: not a namespace file",
        _ => why,
    };
    trace!("ioctl({fd}, NS_GET_NSTYPE)" => Ret::NsType(&ret); "{why}");
    ret.map(|flag| flag as i32)
}

/// ioctl(2) `NS_GET_USERNS` on a namespace descriptor (ioctl_ns(2)): a
/// descriptor of the user namespace that owns it, the one in which
/// `CAP_SYS_ADMIN` is needed to change it; a user namespace's owner is its
/// parent. `EPERM` when that namespace is outside the caller's view (an
/// ancestor of the caller's own user namespace), or is none (the owner of
/// the initial user namespace) (Linux 4.9).
pub fn ioctl_ns_userns(fd: i32) -> Result<Fd, Errno> {
    // SAFETY: this request takes no argument and touches no memory of ours.
    let ret = unsafe { syscall!(Sysno::ioctl, fd, libc::NS_GET_USERNS) };
    let why = match ret {
        Err(Errno::EPERM) => "its owner is above our user namespace, out of our view, or is none",
        _ => "the user namespace that owns it: who has CAP_SYS_ADMIN there may change it",
    };
    trace!("ioctl({fd}, NS_GET_USERNS)" => &ret; "{why}");
    ret.map(|fd| Fd(fd as i32))
}

/// ioctl(2) `NS_GET_PARENT` on a descriptor of a PID or user namespace
/// (ioctl_ns(2)): a descriptor of its parent, the namespace it was created
/// in. `EPERM` when the parent is outside the caller's view (above the
/// caller's own namespace of that type), or is none (an initial
/// namespace); `EINVAL` for the other types, which have no hierarchy
/// (Linux 4.9).
pub fn ioctl_ns_parent(fd: i32) -> Result<Fd, Errno> {
    // SAFETY: this request takes no argument and touches no memory of ours.
    let ret = unsafe { syscall!(Sysno::ioctl, fd, libc::NS_GET_PARENT) };
    let why = match ret {
        Err(Errno::EPERM) => "its parent is above our own namespace, out of our view, or is none",
        _ => "the namespace it was created in, which sees into it",
    };
    trace!("ioctl({fd}, NS_GET_PARENT)" => &ret; "{why}");
    ret.map(|fd| Fd(fd as i32))
}

/// ioctl(2) `NS_GET_OWNER_UID` on a descriptor of a user namespace
/// (ioctl_ns(2)): the effective uid of the process that created it, as the
/// caller's user namespace maps it (the overflow uid, 65534, where it does
/// not) (Linux 4.11).
pub fn ioctl_ns_owner_uid(fd: i32) -> Result<u32, Errno> {
    let mut uid: u32 = 0;
    // SAFETY: the kernel writes one uid_t into `uid`.
    let ret = unsafe {
        syscall!(
            Sysno::ioctl,
            fd,
            libc::NS_GET_OWNER_UID,
            &mut uid as *mut u32
        )
    };
    match ret {
        Ok(_) => trace!("ioctl({fd}, NS_GET_OWNER_UID, [{uid}])" => &ret;
            "the effective uid that created it, in our user namespace's numbers"),
        Err(_) => trace!("ioctl({fd}, NS_GET_OWNER_UID, {:p})", &uid => &ret),
    }
    ret.map(|_| uid)
}

/// clock_gettime(2) of `clock`, such as `CLOCK_BOOTTIME`.
pub fn clock_gettime(clock: i32) -> Result<libc::timespec, Errno> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: the kernel writes one timespec into `ts`.
    let ret = unsafe { syscall!(Sysno::clock_gettime, clock, &mut ts as *mut libc::timespec) };
    let name = match clock {
        libc::CLOCK_MONOTONIC => "CLOCK_MONOTONIC",
        libc::CLOCK_BOOTTIME => "CLOCK_BOOTTIME",
        libc::CLOCK_REALTIME => "CLOCK_REALTIME",
        _ => "?",
    };
    trace!("clock_gettime({name}, {{tv_sec={}, tv_nsec={}}})", ts.tv_sec, ts.tv_nsec => &ret;
        "an offset may not make this clock negative: checked before anything is made");
    ret.map(|_| ts)
}

/// The kernel's `struct statfs` on 64-bit architectures (libc's hides
/// `f_flags` in its padding).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Statfs {
    /// The file system's type, a magic number (`PROC_SUPER_MAGIC`...).
    pub f_type: i64,
    f_bsize: i64,
    f_blocks: u64,
    f_bfree: u64,
    f_bavail: u64,
    f_files: u64,
    f_ffree: u64,
    f_fsid: [i32; 2],
    f_namelen: i64,
    f_frsize: i64,
    /// The mount's flags: `ST_NOEXEC`, `ST_NOSUID`, `ST_RDONLY`...
    pub f_flags: i64,
    f_spare: [i64; 4],
}

/// statfs(2): the file system a path lies on, and how it is mounted.
pub fn statfs(path: &CStr) -> Result<Statfs, Errno> {
    let mut sfs = Statfs::default();
    // SAFETY: `path` is NUL-terminated; the kernel fills one `struct
    // statfs`, whose 64-bit layout `Statfs` has.
    let ret = unsafe { syscall!(Sysno::statfs, path.as_ptr(), &mut sfs as *mut Statfs) };
    match ret {
        Ok(_) => trace!("statfs({}, {{f_type={:#x}, ..., f_flags={:#x}, ...}})", Str::c(path),
            sfs.f_type, sfs.f_flags => &ret; "is it mounted noexec?"),
        Err(_) => trace!("statfs({}, {:p})", Str::c(path), &sfs => &ret),
    }
    ret.map(|_| sfs)
}

/// readlinkat(2): the target of a symbolic link, written into `buf`.
///
/// Returns how many bytes were written (no NUL is added).
pub fn readlink(path: &CStr, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `path` is NUL-terminated; the kernel writes at most `buf.len()`.
    let ret = unsafe {
        syscall!(
            Sysno::readlinkat,
            libc::AT_FDCWD,
            path.as_ptr(),
            buf.as_mut_ptr(),
            buf.len()
        )
    };
    trace!("readlinkat(AT_FDCWD, {}, {}, {})", Str::c(path), Filled { buf, ret: &ret },
        buf.len() => &ret);
    ret
}

/// uname(2): the names of this system, including the hostname (`nodename`)
/// of the caller's UTS namespace.
pub fn uname() -> Result<libc::utsname, Errno> {
    let mut uts = MaybeUninit::<libc::utsname>::uninit();
    let buf = uts.as_mut_ptr();
    // SAFETY: the kernel fills the whole `struct utsname`.
    let ret = unsafe { syscall!(Sysno::uname, buf) };
    // SAFETY: on success the kernel filled `uts`.
    let uts = ret.map(|_| unsafe { uts.assume_init() });
    match &uts {
        Ok(uts) => trace!("uname({{sysname={}, nodename={}, ...}})",
            CChars(&uts.sysname), CChars(&uts.nodename) => &ret),
        Err(_) => trace!("uname({:p})", buf => &ret),
    }
    uts
}

/// sethostname(2): set the hostname of the caller's UTS namespace.
///
/// The name is `len` bytes, without a NUL; the kernel refuses more than 64
/// (`EINVAL`) and callers without `CAP_SYS_ADMIN` in the user namespace that
/// owns the UTS namespace (`EPERM`).
pub fn sethostname(name: &[u8]) -> Result<(), Errno> {
    // SAFETY: the kernel reads `name.len()` bytes from `name`.
    let ret = unsafe { syscall!(Sysno::sethostname, name.as_ptr(), name.len()) };
    trace!("sethostname({}, {})", Str(name), name.len() => &ret;
        "the hostname of the child's UTS namespace; the host keeps its own");
    ret.map(drop)
}

/// unshare(2): move the caller into new namespaces of the types in `flags`
/// (`CLONE_NEW*`). For `CLONE_NEWPID` and `CLONE_NEWTIME` only the caller's
/// future children enter the new namespace (its `*_for_children` link).
pub fn unshare(flags: i32) -> Result<(), Errno> {
    // SAFETY: unshare touches no memory of ours.
    let ret = unsafe { syscall!(Sysno::unshare, flags) };
    let why = match flags {
        libc::CLONE_NEWTIME => "a new time namespace for the children to come, not for us",
        _ => "",
    };
    trace!("unshare({})", NsFlags(flags) => &ret; "{why}");
    ret.map(drop)
}

/// setns(2): move the calling *thread* into the namespace open as `fd`;
/// `nstype` is its `CLONE_NEW*` flag, checked by the kernel (0 accepts any
/// type). With a pidfd (pidfd_open(2), Linux 5.8), `nstype` may name several
/// types: the caller joins that process's namespaces of those types all at
/// once, or none of them.
pub fn setns(fd: i32, nstype: i32, why: &str) -> Result<(), Errno> {
    // SAFETY: setns touches no memory of ours.
    let ret = unsafe { syscall!(Sysno::setns, fd, nstype) };
    trace!("setns({fd}, {})", NsFlags(nstype) => &ret; "{why}");
    ret.map(drop)
}

/// unlinkat(2) relative to the current directory: remove the name `path`.
pub fn unlink(path: &CStr, why: &str) -> Result<(), Errno> {
    // SAFETY: `path` is NUL-terminated.
    let ret = unsafe { syscall!(Sysno::unlinkat, libc::AT_FDCWD, path.as_ptr(), 0) };
    trace!("unlinkat(AT_FDCWD, {}, 0)", Str::c(path) => &ret; "{why}");
    ret.map(drop)
}

/// chroot(2): make `path` the caller's root directory, where `/` begins
/// for it from now on.
pub fn chroot(path: &CStr, why: &str) -> Result<(), Errno> {
    // SAFETY: `path` is NUL-terminated.
    let ret = unsafe { syscall!(Sysno::chroot, path.as_ptr()) };
    trace!("chroot({})", Str::c(path) => &ret; "{why}");
    ret.map(drop)
}

/// fchdir(2): make the directory open as `fd` the caller's working
/// directory.
pub fn fchdir(fd: i32, why: &str) -> Result<(), Errno> {
    // SAFETY: fchdir touches no memory of ours.
    let ret = unsafe { syscall!(Sysno::fchdir, fd) };
    trace!("fchdir({fd})" => &ret; "{why}");
    ret.map(drop)
}

/// mount(2): attach a filesystem, or with `MS_PRIVATE`, `MS_SLAVE`... (and
/// no source) change the propagation of an existing mount.
///
/// `None` passes NULL, as mount(2) expects for unused arguments.
pub fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: u64,
    data: Option<&CStr>,
) -> Result<(), Errno> {
    let ptr = |s: Option<&CStr>| s.map_or(core::ptr::null(), CStr::as_ptr);
    // SAFETY: every pointer is NULL or a NUL-terminated string.
    let ret = unsafe {
        syscall!(
            Sysno::mount,
            ptr(source),
            target.as_ptr(),
            ptr(fstype),
            flags,
            ptr(data)
        )
    };
    let why = if flags & (libc::MS_PRIVATE | libc::MS_SLAVE) != 0 {
        "no mount made in here propagates back to the host (/ is often shared)"
    } else if fstype.is_some_and(|t| t.to_bytes() == b"proc") {
        "a /proc that shows the new PID namespace's processes"
    } else {
        ""
    };
    trace!("mount({}, {}, {}, {}, {})", OptStr(source), Str::c(target), OptStr(fstype),
        MountFlags(flags), OptStr(data) => &ret; "{why}");
    ret.map(drop)
}

/// mount(2) with `MS_BIND`: make `source` visible at `target` too, and
/// with `recursive` (`MS_REC`) the mounts below it as well. A directory
/// bound onto itself becomes a mount point, which pivot_root(2) requires.
pub fn mount_bind(source: &CStr, target: &CStr, recursive: bool, why: &str) -> Result<(), Errno> {
    let flags = libc::MS_BIND | if recursive { libc::MS_REC } else { 0 };
    // SAFETY: both paths are NUL-terminated; no file system type or data.
    let ret = unsafe { syscall!(Sysno::mount, source.as_ptr(), target.as_ptr(), 0, flags, 0) };
    trace!("mount({}, {}, NULL, {}, NULL)", Str::c(source), Str::c(target), MountFlags(flags)
        => &ret; "{why}");
    ret.map(drop)
}

/// chdir(2): make `path` the caller's current directory.
pub fn chdir(path: &CStr, why: &str) -> Result<(), Errno> {
    // SAFETY: `path` is NUL-terminated.
    let ret = unsafe { syscall!(Sysno::chdir, path.as_ptr()) };
    trace!("chdir({})", Str::c(path) => &ret; "{why}");
    ret.map(drop)
}

/// pivot_root(2): make the mount at `new_root` the root mount of the
/// caller's mount namespace, and move the old root mount to `put_old`.
/// Needs `CAP_SYS_ADMIN` in the user namespace that owns the mount
/// namespace; see [`crate::namespace::root`] for its rules.
pub fn pivot_root(new_root: &CStr, put_old: &CStr, why: &str) -> Result<(), Errno> {
    // SAFETY: both paths are NUL-terminated.
    let ret = unsafe { syscall!(Sysno::pivot_root, new_root.as_ptr(), put_old.as_ptr()) };
    trace!("pivot_root({}, {})", Str::c(new_root), Str::c(put_old) => &ret; "{why}");
    ret.map(drop)
}

/// umount2(2): unmount the mount at `target`; with `MNT_DETACH`, detach it
/// (and every mount below it) from the tree at once, the file systems
/// going away when nothing uses them any more.
pub fn umount2(target: &CStr, flags: i32, why: &str) -> Result<(), Errno> {
    // SAFETY: `target` is NUL-terminated.
    let ret = unsafe { syscall!(Sysno::umount2, target.as_ptr(), flags) };
    trace!("umount2({}, {})", Str::c(target), UmountFlags(flags) => &ret; "{why}");
    ret.map(drop)
}

/// socket(2) with `SOCK_CLOEXEC` added.
pub fn socket(domain: i32, ty: i32, protocol: i32) -> Result<Fd, Errno> {
    let ty = ty | libc::SOCK_CLOEXEC;
    // SAFETY: socket touches no memory of ours.
    let ret = unsafe { syscall!(Sysno::socket, domain, ty, protocol) };
    let domain = match domain {
        libc::AF_INET => "AF_INET",
        libc::AF_UNIX => "AF_UNIX",
        libc::AF_NETLINK => "AF_NETLINK",
        _ => "AF_?",
    };
    let kind = match ty & !libc::SOCK_CLOEXEC {
        libc::SOCK_DGRAM => "SOCK_DGRAM|SOCK_CLOEXEC",
        libc::SOCK_STREAM => "SOCK_STREAM|SOCK_CLOEXEC",
        _ => "SOCK_?|SOCK_CLOEXEC",
    };
    let protocol = match (domain, protocol) {
        ("AF_INET", 0) => "IPPROTO_IP",
        (_, 0) => "0",
        _ => "?",
    };
    trace!("socket({domain}, {kind}, {protocol})" => &ret;
        "any socket will do: interface ioctls need one");
    ret.map(|fd| Fd(fd as i32))
}

/// The part of the kernel's `struct ifreq` that `SIOCGIFFLAGS` and
/// `SIOCSIFFLAGS` use: an interface name and its flags (`IFF_UP`...).
/// libc's `ifreq` holds the flags in a union, which only unsafe code may
/// read; this one has the same size and layout for these two requests.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IfFlags {
    /// The interface's name, NUL-padded (`IFNAMSIZ` bytes).
    pub name: [u8; libc::IFNAMSIZ],
    /// The interface flags, `IFF_*`.
    pub flags: i16,
    /// The rest of the union, unused by these requests.
    pad: [u8; 22],
}

const _: () = assert!(size_of::<IfFlags>() == size_of::<libc::ifreq>());

impl IfFlags {
    /// A request about interface `name` (at most `IFNAMSIZ - 1` bytes).
    pub const fn new(name: &[u8]) -> IfFlags {
        let mut req = IfFlags {
            name: [0; libc::IFNAMSIZ],
            flags: 0,
            pad: [0; 22],
        };
        let mut i = 0;
        while i < name.len() && i < libc::IFNAMSIZ - 1 {
            req.name[i] = name[i];
            i += 1;
        }
        req
    }
}

/// ioctl(2) on a socket with an interface request: `SIOCGIFFLAGS` reads the
/// flags into `req`, `SIOCSIFFLAGS` sets them from it. See netdevice(7).
pub fn ioctl_ifflags(fd: i32, request: u64, req: &mut IfFlags) -> Result<(), Errno> {
    // SAFETY: both requests read and write one `struct ifreq`, which
    // `IfFlags` lays out in full (the size is checked above).
    let ret = unsafe { syscall!(Sysno::ioctl, fd, request, req as *mut IfFlags) };
    let (name, why) = match request {
        libc::SIOCGIFFLAGS => ("SIOCGIFFLAGS", ""),
        libc::SIOCSIFFLAGS => (
            "SIOCSIFFLAGS",
            "lo starts down in a new network namespace (where it is the only device, \
             unless the kernel adds fallback tunnels: net.core.fb_tunnels_only_for_init_net)",
        ),
        _ => ("?", ""),
    };
    trace!("ioctl({fd}, {name}, {{ifr_name={}, ifr_flags={}}})", Str(until_nul(&req.name)),
        IfaceFlags(req.flags) => &ret; "{why}");
    ret.map(drop)
}

/// The bytes of `buf` before its first NUL.
fn until_nul(buf: &[u8]) -> &[u8] {
    &buf[..buf.iter().position(|&b| b == 0).unwrap_or(buf.len())]
}

/// execve(2): replace this process with the program at `path`.
///
/// It returns only when it failed, so it returns the error itself.
///
/// # Safety
/// `argv` and `envp` must be NULL-terminated arrays of pointers to
/// NUL-terminated strings, all valid for the duration of the call.
pub unsafe fn execve(path: &CStr, argv: *const *const c_char, envp: *const *const c_char) -> Errno {
    // A successful execve does not return, so its line is written first.
    // SAFETY: the caller guarantees the arrays are well formed.
    let (args, env) = unsafe { (Argv::new(argv), Envp::new(envp)) };
    trace!("execve({}, {args}, {env})", Str::c(path) => Ret::Unfinished;
        "success does not return: the command replaces nsclone in this process");
    // SAFETY: the caller guarantees the arrays are well formed.
    let ret = unsafe { syscall!(Sysno::execve, path.as_ptr(), argv, envp) };
    let errno = match ret {
        Ok(_) => unreachable!("execve returned without an error"),
        Err(errno) => errno,
    };
    let why = match errno {
        Errno::EACCES => "not executable: remembered, and the search goes on",
        Errno::ENOEXEC => "neither #! nor ELF: run it with /bin/sh, as execvp does",
        _ => "",
    };
    trace!("<... execve resumed>" => &ret; "{why}");
    errno
}

/// wait4(2) for the child `pid`: how it changed state, or `None` with
/// `WNOHANG` when it has not. Retried when a signal interrupts it.
pub fn wait4(pid: Pid, options: i32) -> Result<Option<WaitStatus>, Errno> {
    let opts = match options {
        libc::WNOHANG => "WNOHANG",
        _ => "0",
    };
    loop {
        let mut status = 0i32;
        // SAFETY: the kernel writes one int into `status`; no rusage is asked.
        let ret = unsafe { syscall!(Sysno::wait4, pid, &mut status as *mut i32, options, 0) };
        match ret {
            Ok(0) | Err(_) => trace!("wait4({pid}, {:p}, {opts}, NULL)", &status => &ret),
            Ok(_) => trace!("wait4({pid}, {}, {opts}, NULL)", Status(status) => &ret;
                "{}", StatusMeaning(status)),
        }
        match ret {
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno),
            Ok(0) => return Ok(None),
            Ok(_) => return Ok(Some(WaitStatus::from_raw(status))),
        }
    }
}

/// kill(2): send signal `sig` to process `pid`.
pub fn kill(pid: Pid, sig: i32, why: &str) -> Result<(), Errno> {
    // SAFETY: sending a signal touches no memory of ours.
    let ret = unsafe { syscall!(Sysno::kill, pid, sig) };
    trace!("kill({pid}, {})", Signal(sig) => &ret; "{why}");
    ret.map(drop)
}

/// kill(2) of the calling process itself. With `sig` unblocked and its
/// default action, it does not return: the process dies of the signal, as
/// its child did, so whoever waits for it sees the same status.
pub fn raise(sig: i32) -> Result<(), Errno> {
    let pid = getpid();
    // Written first: if the signal kills, the call never returns.
    trace!("kill({pid}, {})", Signal(sig) => Ret::Unfinished;
        "die of the child's signal, so our parent sees what we saw");
    // SAFETY: sending a signal touches no memory of ours.
    let ret = unsafe { syscall!(Sysno::kill, pid, sig) };
    trace!("<... kill resumed>" => &ret);
    ret.map(drop)
}

/// rt_sigprocmask(2): change the calling thread's signal mask.
///
/// `how` is `SIG_BLOCK`, `SIG_UNBLOCK` or `SIG_SETMASK`. Returns the mask as
/// it was before.
pub fn sigprocmask(how: i32, set: SigSet) -> Result<SigSet, Errno> {
    let new = set.bits();
    let mut old = 0u64;
    // SAFETY: the kernel reads and writes one 8-byte mask each (the size we
    // pass is the kernel's sigset size on Linux, not libc's 128 bytes).
    let ret = unsafe {
        syscall!(
            Sysno::rt_sigprocmask,
            how,
            &new as *const u64,
            &mut old as *mut u64,
            SigSet::KERNEL_SIZE
        )
    };
    let old = SigSet::from_bits(old);
    let why = match how {
        libc::SIG_BLOCK => "blocked, they wait to be taken with rt_sigtimedwait: no handler",
        libc::SIG_SETMASK if set == SigSet::ALL => {
            "no handler may run in the child between clone and exec"
        }
        libc::SIG_SETMASK => "back to the mask from before",
        _ => "so that it is delivered",
    };
    let how = match how {
        libc::SIG_BLOCK => "SIG_BLOCK",
        libc::SIG_UNBLOCK => "SIG_UNBLOCK",
        _ => "SIG_SETMASK",
    };
    trace!("rt_sigprocmask({how}, {}, {}, {})", Sigset(set), Sigset(old), SigSet::KERNEL_SIZE
        => &ret; "{why}");
    ret.map(|_| old)
}

/// rt_sigtimedwait(2) with no timeout: take one of the pending signals in
/// `set` (which must be blocked), waiting until one arrives.
///
/// Returns the signal number and what the kernel knows of its sender.
pub fn sigwaitinfo(set: SigSet) -> Result<(i32, libc::siginfo_t), Errno> {
    let bits = set.bits();
    let mut info = MaybeUninit::<libc::siginfo_t>::zeroed();
    loop {
        // SAFETY: the kernel reads one 8-byte mask and fills one siginfo_t;
        // a NULL timeout means wait for as long as it takes.
        let ret = unsafe {
            syscall!(
                Sysno::rt_sigtimedwait,
                &bits as *const u64,
                info.as_mut_ptr(),
                0,
                SigSet::KERNEL_SIZE
            )
        };
        // SAFETY: the buffer started zeroed, and the kernel filled it when
        // a signal was taken.
        let filled = unsafe { info.assume_init_ref() };
        let why = match ret {
            Ok(sig) if sig as i32 == libc::SIGCHLD => "the child changed state: wait4 tells how",
            Ok(_) => "taken while pending: no handler ran",
            Err(_) => "",
        };
        match ret {
            Ok(_) => trace!("rt_sigtimedwait({}, {}, NULL, {})", Sigset(set), SigInfo(filled),
                SigSet::KERNEL_SIZE => Ret::Signal(&ret); "{why}"),
            Err(_) => trace!("rt_sigtimedwait({}, {:p}, NULL, {})", Sigset(set), filled,
                SigSet::KERNEL_SIZE => &ret),
        }
        match ret {
            Err(Errno::EINTR) => continue,
            Ok(sig) => return Ok((sig as i32, *filled)),
            Err(errno) => return Err(errno),
        }
    }
}

/// The kernel's own `struct sigaction` on x86_64 (not libc's, whose layout
/// differs).
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// rt_sigaction(2) setting `sig` back to its default action (`SIG_DFL`).
///
/// Only `SIG_DFL` and `SIG_IGN` can be installed without a signal trampoline
/// (`sa_restorer`), and nsclone needs no handler: it takes its signals with
/// [`sigwaitinfo`] instead.
pub fn sigaction_default(sig: i32) -> Result<(), Errno> {
    let why = match sig {
        libc::SIGPIPE => {
            "std's runtime ignores SIGPIPE in Rust programs: the command gets the default"
        }
        libc::SIGCHLD => {
            "ignored, the kernel would reap the child itself and keep its status from us"
        }
        _ => "the default action, which for this signal is death",
    };
    set_action(sig, libc::SIG_DFL, why)
}

/// rt_sigaction(2) setting `sig` to be ignored (`SIG_IGN`), which, unlike a
/// handler, survives execve(2).
pub fn sigaction_ignore(sig: i32) -> Result<(), Errno> {
    set_action(
        sig,
        libc::SIG_IGN,
        "ignored, as the caller had it: exec keeps it so",
    )
}

/// rt_sigaction(2) installing `handler`, `SIG_DFL` or `SIG_IGN`, for `sig`.
fn set_action(sig: i32, handler: usize, why: &str) -> Result<(), Errno> {
    let act = KernelSigaction {
        handler,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: the kernel reads one kernel sigaction; no old action is asked.
    let ret = unsafe {
        syscall!(
            Sysno::rt_sigaction,
            sig,
            &act as *const KernelSigaction,
            0,
            SigSet::KERNEL_SIZE
        )
    };
    let shown = if handler == libc::SIG_IGN {
        "SIG_IGN"
    } else {
        "SIG_DFL"
    };
    trace!("rt_sigaction({}, {{sa_handler={shown}, sa_mask=[], sa_flags=0}}, NULL, {})",
        Signal(sig), SigSet::KERNEL_SIZE => &ret; "{why}");
    ret.map(drop)
}

/// rt_sigaction(2) reading, without changing, what `sig` does now: its
/// default action, ignored, or a handler of this process.
///
/// Only the handler field of the kernel's answer matters here: `SIG_DFL`
/// (0), `SIG_IGN` (1), or the address of a function.
pub fn sigaction_disposition(sig: i32) -> Result<Disposition, Errno> {
    let mut old = MaybeUninit::<KernelSigaction>::zeroed();
    // SAFETY: no new action is given (NULL), so nothing changes; the kernel
    // writes one kernel sigaction into `old`, which has its layout.
    let ret = unsafe {
        syscall!(
            Sysno::rt_sigaction,
            sig,
            0,
            old.as_mut_ptr(),
            SigSet::KERNEL_SIZE
        )
    };
    // SAFETY: the buffer started zeroed, and the kernel filled it if the
    // call succeeded.
    let handler = unsafe { old.assume_init() }.handler;
    let shown = match handler {
        libc::SIG_DFL => "SIG_DFL",
        libc::SIG_IGN => "SIG_IGN",
        _ => "a handler",
    };
    let why = match sig {
        libc::SIGCHLD => "while SIGCHLD is ignored, the kernel reaps children unseen",
        _ => "",
    };
    trace!("rt_sigaction({}, NULL, {{sa_handler={shown}, ...}}, {})", Signal(sig),
        SigSet::KERNEL_SIZE => &ret; "{why}");
    ret?;
    Ok(match handler {
        libc::SIG_DFL => Disposition::Default,
        libc::SIG_IGN => Disposition::Ignore,
        _ => Disposition::Handler,
    })
}

/// prlimit64(2) on the caller: set the soft and hard limit of `resource`.
pub fn setrlimit(resource: u32, limit: u64) -> Result<(), Errno> {
    let new = libc::rlimit64 {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: the kernel reads one rlimit64; no old limit is asked.
    let ret = unsafe {
        syscall!(
            Sysno::prlimit64,
            0,
            resource,
            &new as *const libc::rlimit64,
            0
        )
    };
    let (name, why) = match resource {
        libc::RLIMIT_CORE => (
            "RLIMIT_CORE",
            "no core file of the launcher's: the child's is the one that matters",
        ),
        libc::RLIMIT_NOFILE => ("RLIMIT_NOFILE", ""),
        libc::RLIMIT_STACK => ("RLIMIT_STACK", ""),
        _ => ("RLIMIT_?", ""),
    };
    trace!("prlimit64(0, {name}, {{rlim_cur={limit}, rlim_max={limit}}}, NULL)" => &ret; "{why}");
    ret.map(drop)
}

/// exit_group(2): end every thread of this process with `code`.
///
/// Unlike `std::process::exit`, it runs no atexit handlers and flushes no
/// buffers, which in the child would belong to the parent.
pub fn exit_group(code: i32) -> ! {
    trace!("exit_group({code})" => Ret::NoReturn;
        "leave now: unlike exit(3), no atexit handler runs, no stdio buffer is flushed");
    // SAFETY: exit_group takes an int and does not return.
    let _ = unsafe { syscall!(Sysno::exit_group, code) };
    arch::trap()
}
