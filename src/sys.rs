//! Every system call nsclone makes, behind one typed function each.
//!
//! This is the only module that talks to the kernel (the clone trampoline in
//! [`crate::clone`] is the one exception, because it cannot be an ordinary
//! function call). Each function makes exactly one raw system call through
//! the `syscalls` crate and returns the kernel's answer: a value, or the
//! [`Errno`] it reported. Nothing here allocates, takes a lock or touches
//! thread-local state, so every function is safe to call in the child between
//! clone and exec. `libc` supplies only types and constants.
//!
//! The man page of each call is named in its documentation: `man 2 NAME`.

use core::ffi::{CStr, c_char};
use core::mem::MaybeUninit;

use syscalls::{Errno, Sysno, syscall};

use crate::signal::{Disposition, SigSet};

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

/// getpid(2): the caller's process id.
pub fn getpid() -> Pid {
    // SAFETY: getpid takes no arguments and cannot fail.
    unsafe { syscall!(Sysno::getpid) }.map_or(0, |pid| pid as Pid)
}

/// getresuid(2): the caller's real, effective and saved user ids.
pub fn getresuid() -> (u32, u32, u32) {
    let mut ids = [0u32; 3];
    // SAFETY: the kernel writes one uid into each of the three pointers,
    // which point into `ids`; it cannot fail with valid pointers.
    let _ = unsafe {
        syscall!(
            Sysno::getresuid,
            ids.as_mut_ptr(),
            ids.as_mut_ptr().add(1),
            ids.as_mut_ptr().add(2)
        )
    };
    (ids[0], ids[1], ids[2])
}

/// getresgid(2): the caller's real, effective and saved group ids.
pub fn getresgid() -> (u32, u32, u32) {
    let mut ids = [0u32; 3];
    // SAFETY: as for getresuid, with gids.
    let _ = unsafe {
        syscall!(
            Sysno::getresgid,
            ids.as_mut_ptr(),
            ids.as_mut_ptr().add(1),
            ids.as_mut_ptr().add(2)
        )
    };
    (ids[0], ids[1], ids[2])
}

/// prctl(2) `PR_SET_PDEATHSIG`: have the kernel send `sig` to the caller
/// when its parent *thread* exits (not only when the whole parent process
/// does). The setting survives execve(2), except of a set-user-ID or
/// set-group-ID program or one with file capabilities.
pub fn set_pdeathsig(sig: i32) -> Result<(), Errno> {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number and touches no memory.
    unsafe { syscall!(Sysno::prctl, libc::PR_SET_PDEATHSIG, sig, 0, 0, 0) }.map(drop)
}

/// prctl(2) `PR_SET_CHILD_SUBREAPER`: orphaned descendants of the caller are
/// reparented to it rather than to init, so it can wait for them.
pub fn set_child_subreaper() -> Result<(), Errno> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes a flag and touches no memory.
    unsafe { syscall!(Sysno::prctl, libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }.map(drop)
}

/// getppid(2): the process id of the caller's parent, as the caller's PID
/// namespace sees it: 0 when the parent is outside that namespace.
pub fn getppid() -> Pid {
    // SAFETY: getppid takes no arguments and cannot fail.
    unsafe { syscall!(Sysno::getppid) }.map_or(0, |pid| pid as Pid)
}

/// geteuid(2): the caller's effective user id, which the kernel checks
/// against the uid_map an unprivileged process writes.
pub fn geteuid() -> u32 {
    // SAFETY: geteuid takes no arguments and cannot fail.
    unsafe { syscall!(Sysno::geteuid) }.map_or(u32::MAX, |id| id as u32)
}

/// getegid(2): the caller's effective group id.
pub fn getegid() -> u32 {
    // SAFETY: getegid takes no arguments and cannot fail.
    unsafe { syscall!(Sysno::getegid) }.map_or(u32::MAX, |id| id as u32)
}

/// mmap(2) of private anonymous memory, for a child stack.
///
/// Returns the address of `len` bytes mapped with `prot` and `flags`
/// (`MAP_PRIVATE | MAP_ANONYMOUS` are always added).
pub fn mmap_anonymous(len: usize, prot: i32, flags: i32) -> Result<*mut u8, Errno> {
    let flags = flags | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    // SAFETY: a NULL hint with anonymous memory maps fresh pages where the
    // kernel chooses; it cannot replace any existing mapping.
    let addr = unsafe { syscall!(Sysno::mmap, 0, len, prot, flags, -1i32, 0) }?;
    Ok(addr as *mut u8)
}

/// mprotect(2): change the protection of whole pages.
///
/// # Safety
/// `addr..addr + len` must be memory this process mapped and that nothing
/// still uses with the old protection.
pub unsafe fn mprotect(addr: *mut u8, len: usize, prot: i32) -> Result<(), Errno> {
    // SAFETY: the caller guarantees the range is ours to change.
    unsafe { syscall!(Sysno::mprotect, addr, len, prot) }.map(drop)
}

/// munmap(2): give pages back to the kernel.
///
/// # Safety
/// `addr..addr + len` must be a mapping this process made and nothing may
/// use it afterwards.
pub unsafe fn munmap(addr: *mut u8, len: usize) -> Result<(), Errno> {
    // SAFETY: the caller guarantees nothing uses the range any more.
    unsafe { syscall!(Sysno::munmap, addr, len) }.map(drop)
}

/// pipe2(2) with `O_CLOEXEC`: a pipe whose ends close by themselves at exec.
///
/// Returns `(read end, write end)`.
pub fn pipe_cloexec() -> Result<(Fd, Fd), Errno> {
    let mut fds = [-1i32; 2];
    // SAFETY: the kernel writes two ints into `fds`, which has room for them.
    unsafe { syscall!(Sysno::pipe2, fds.as_mut_ptr(), libc::O_CLOEXEC) }?;
    Ok((Fd(fds[0]), Fd(fds[1])))
}

/// read(2), retried when a signal interrupts it.
pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        match unsafe { syscall!(Sysno::read, fd, buf.as_mut_ptr(), buf.len()) } {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// write(2), retried when a signal interrupts it.
pub fn write(fd: i32, buf: &[u8]) -> Result<usize, Errno> {
    loop {
        // SAFETY: the kernel reads at most `buf.len()` bytes from `buf`.
        match unsafe { syscall!(Sysno::write, fd, buf.as_ptr(), buf.len()) } {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// ppoll(2) without waiting: which of `fds` are ready now. Fills each
/// `revents` and returns how many have events. `POLLHUP` on a pipe's read
/// end means every write end is closed.
pub fn poll_now(fds: &mut [libc::pollfd]) -> Result<usize, Errno> {
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: the kernel reads and updates `fds.len()` pollfd structures in
    // `fds` and reads one timespec; no signal mask is passed.
    unsafe {
        syscall!(
            Sysno::ppoll,
            fds.as_mut_ptr(),
            fds.len(),
            &zero as *const libc::timespec,
            0,
            0
        )
    }
}

/// close(2). Errors are ignored: the descriptor is gone either way.
pub fn close(fd: i32) {
    // SAFETY: closing a descriptor touches no memory of ours.
    let _ = unsafe { syscall!(Sysno::close, fd) };
}

/// newfstatat(2) on a path: the file's metadata (`stat(2)`).
pub fn stat(path: &CStr) -> Result<libc::stat, Errno> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `path` is NUL-terminated and the kernel fills `st`, which has
    // the kernel's `struct stat` layout on this architecture.
    unsafe {
        syscall!(
            Sysno::newfstatat,
            libc::AT_FDCWD,
            path.as_ptr(),
            st.as_mut_ptr(),
            0
        )?;
        Ok(st.assume_init())
    }
}

/// openat(2) relative to the current directory, with `O_CLOEXEC` added:
/// the descriptor never reaches the command.
pub fn open(path: &CStr, flags: i32) -> Result<Fd, Errno> {
    // SAFETY: `path` is NUL-terminated; no mode is needed without O_CREAT.
    let fd = unsafe {
        syscall!(
            Sysno::openat,
            libc::AT_FDCWD,
            path.as_ptr(),
            flags | libc::O_CLOEXEC
        )
    }?;
    Ok(Fd(fd as i32))
}

/// faccessat(2) with `F_OK`: does the path exist?
pub fn exists(path: &CStr) -> bool {
    // SAFETY: `path` is NUL-terminated; nothing is written.
    unsafe { syscall!(Sysno::faccessat, libc::AT_FDCWD, path.as_ptr(), libc::F_OK) }.is_ok()
}

/// readlinkat(2): the target of a symbolic link, written into `buf`.
///
/// Returns how many bytes were written (no NUL is added).
pub fn readlink(path: &CStr, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `path` is NUL-terminated; the kernel writes at most `buf.len()`.
    unsafe {
        syscall!(
            Sysno::readlinkat,
            libc::AT_FDCWD,
            path.as_ptr(),
            buf.as_mut_ptr(),
            buf.len()
        )
    }
}

/// uname(2): the names of this system, including the hostname (`nodename`)
/// of the caller's UTS namespace.
pub fn uname() -> Result<libc::utsname, Errno> {
    let mut uts = MaybeUninit::<libc::utsname>::uninit();
    // SAFETY: the kernel fills the whole `struct utsname`.
    unsafe {
        syscall!(Sysno::uname, uts.as_mut_ptr())?;
        Ok(uts.assume_init())
    }
}

/// sethostname(2): set the hostname of the caller's UTS namespace.
///
/// The name is `len` bytes, without a NUL; the kernel refuses more than 64
/// (`EINVAL`) and callers without `CAP_SYS_ADMIN` in the user namespace that
/// owns the UTS namespace (`EPERM`).
pub fn sethostname(name: &[u8]) -> Result<(), Errno> {
    // SAFETY: the kernel reads `name.len()` bytes from `name`.
    unsafe { syscall!(Sysno::sethostname, name.as_ptr(), name.len()) }.map(drop)
}

/// unshare(2): move the caller into new namespaces of the types in `flags`
/// (`CLONE_NEW*`). For `CLONE_NEWPID` and `CLONE_NEWTIME` only the caller's
/// future children enter the new namespace (its `*_for_children` link).
pub fn unshare(flags: i32) -> Result<(), Errno> {
    // SAFETY: unshare touches no memory of ours.
    unsafe { syscall!(Sysno::unshare, flags) }.map(drop)
}

/// setns(2): move the caller into the namespace open as `fd`; `nstype` is
/// its `CLONE_NEW*` flag, checked by the kernel (0 accepts any type).
pub fn setns(fd: i32, nstype: i32) -> Result<(), Errno> {
    // SAFETY: setns touches no memory of ours.
    unsafe { syscall!(Sysno::setns, fd, nstype) }.map(drop)
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
    unsafe {
        syscall!(
            Sysno::mount,
            ptr(source),
            target.as_ptr(),
            ptr(fstype),
            flags,
            ptr(data)
        )
    }
    .map(drop)
}

/// socket(2) with `SOCK_CLOEXEC` added.
pub fn socket(domain: i32, ty: i32, protocol: i32) -> Result<Fd, Errno> {
    // SAFETY: socket touches no memory of ours.
    let fd = unsafe { syscall!(Sysno::socket, domain, ty | libc::SOCK_CLOEXEC, protocol) }?;
    Ok(Fd(fd as i32))
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
    unsafe { syscall!(Sysno::ioctl, fd, request, req as *mut IfFlags) }.map(drop)
}

/// execve(2): replace this process with the program at `path`.
///
/// It returns only when it failed, so it returns the error itself.
///
/// # Safety
/// `argv` and `envp` must be NULL-terminated arrays of pointers to
/// NUL-terminated strings, all valid for the duration of the call.
pub unsafe fn execve(path: &CStr, argv: *const *const c_char, envp: *const *const c_char) -> Errno {
    // SAFETY: the caller guarantees the arrays are well formed.
    match unsafe { syscall!(Sysno::execve, path.as_ptr(), argv, envp) } {
        Ok(_) => unreachable!("execve returned without an error"),
        Err(errno) => errno,
    }
}

/// wait4(2) for one child: its pid (0 with `WNOHANG` if it has not changed
/// state) and its raw wait status.
pub fn wait4(pid: Pid, options: i32) -> Result<(Pid, i32), Errno> {
    let mut status = 0i32;
    // SAFETY: the kernel writes one int into `status`; no rusage is asked.
    let pid = unsafe { syscall!(Sysno::wait4, pid, &mut status as *mut i32, options, 0) }?;
    Ok((pid as Pid, status))
}

/// kill(2): send signal `sig` to process `pid`.
pub fn kill(pid: Pid, sig: i32) -> Result<(), Errno> {
    // SAFETY: sending a signal touches no memory of ours.
    unsafe { syscall!(Sysno::kill, pid, sig) }.map(drop)
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
    unsafe {
        syscall!(
            Sysno::rt_sigprocmask,
            how,
            &new as *const u64,
            &mut old as *mut u64,
            SigSet::KERNEL_SIZE
        )
    }?;
    Ok(SigSet::from_bits(old))
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
        match unsafe {
            syscall!(
                Sysno::rt_sigtimedwait,
                &bits as *const u64,
                info.as_mut_ptr(),
                0,
                SigSet::KERNEL_SIZE
            )
        } {
            Err(Errno::EINTR) => continue,
            // SAFETY: the buffer started zeroed and the kernel filled it.
            Ok(sig) => return Ok((sig as i32, unsafe { info.assume_init() })),
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
    let act = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: the kernel reads one kernel sigaction; no old action is asked.
    unsafe {
        syscall!(
            Sysno::rt_sigaction,
            sig,
            &act as *const KernelSigaction,
            0,
            SigSet::KERNEL_SIZE
        )
    }
    .map(drop)
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
    unsafe {
        syscall!(
            Sysno::rt_sigaction,
            sig,
            0,
            old.as_mut_ptr(),
            SigSet::KERNEL_SIZE
        )
    }?;
    // SAFETY: the buffer started zeroed and the kernel filled it.
    let handler = unsafe { old.assume_init() }.handler;
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
    unsafe {
        syscall!(
            Sysno::prlimit64,
            0,
            resource,
            &new as *const libc::rlimit64,
            0
        )
    }
    .map(drop)
}

/// exit_group(2): end every thread of this process with `code`.
///
/// Unlike `std::process::exit`, it runs no atexit handlers and flushes no
/// buffers, which in the child would belong to the parent.
pub fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group takes an int and does not return.
    let _ = unsafe { syscall!(Sysno::exit_group, code) };
    crate::clone::trap()
}
