//! clone(2) with a stack we allocated, and a closure that never returns.
//!
//! After a raw clone with a new stack pointer, the child resumes at the
//! instruction after `syscall`, on an empty stack. Compiled code around an
//! ordinary system call wrapper would read its locals relative to the stack
//! pointer, which now points at nothing the compiler expected, so the child
//! must never return into Rust from the system call. The architecture file
//! holds one `asm!` block that makes the call, branches on the result and,
//! in the child, jumps to `entry`: a plain `extern "C"` function that
//! runs the closure and ends with exit_group(2).
//!
//! See clone(2), and musl's `src/thread/*/clone.s` for the same idea in C.

use core::ffi::c_void;

use syscalls::Errno;

use crate::arch;
use crate::signal::SIGNAL_MAX;
use crate::stack::Stack;
use crate::strace::{CloneFlags, Signal};
use crate::sys::{self, Pid};
use crate::trace::{self, Ret, trace};

/// The flags [`clone`] accepts: new namespaces, vfork-style memory sharing,
/// and the exit signal in the low byte (`CSIGNAL`). Anything else (threads,
/// TLS, tid pointers, shared file tables) is refused before the system call.
pub const ALLOWED_FLAGS: u64 = (libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNS
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_VM
    | libc::CLONE_VFORK
    | libc::CSIGNAL) as u64;

/// Start a child process on `stack` that runs `child` and then exits with
/// the code it returns. Returns the child's pid in the parent.
///
/// Flags outside [`ALLOWED_FLAGS`], `CLONE_VM` without `CLONE_VFORK` (the
/// parent would go on and could free the stack under the child), and an exit
/// signal above 64 are refused with `EINVAL` before any system call. The
/// last catches `CLONE_NEWTIME` (0x80), which lands in the exit-signal byte:
/// the kernel would take `SIGCHLD | CLONE_NEWTIME` as exit signal 145, which
/// is no signal: it would create no time namespace, send nothing when the
/// child ends, and report the child, a "clone" child, only to a wait4 with
/// `__WALL` or `__WCLONE`.
///
/// # Safety
/// Between clone and exec the child may find locks held by threads that no
/// longer exist in it, so `child` must not allocate, lock, use std's I/O or
/// panic; it should only make calls from [`crate::sys`]. With `CLONE_VM` it
/// also runs in the parent's memory and must not write anything the parent
/// relies on.
pub unsafe fn clone<F: FnMut() -> i32>(
    flags: u64,
    stack: &Stack,
    child: &mut F,
) -> Result<Pid, Errno> {
    let vm = libc::CLONE_VM as u64;
    let vfork = libc::CLONE_VFORK as u64;
    let exit_signal = (flags & libc::CSIGNAL as u64) as i32;
    if flags & !ALLOWED_FLAGS != 0
        || (flags & vm != 0 && flags & vfork == 0)
        || exit_signal > SIGNAL_MAX
    {
        return Err(Errno::EINVAL);
    }
    let arg = (child as *mut F).cast::<c_void>();
    // Written before the call, so that it comes before anything the child
    // says; in vfork style the launcher sleeps until the child has exec'd.
    trace!("clone(child_stack={:p}, flags={})", stack.top(), CloneFlags(flags) => Ret::Unfinished;
        "the child starts in clone::entry on the new, empty stack, as it has no frame \
         to return to; it ends by sending {}", Signal(exit_signal));
    let speaker = trace::speaker();
    // SAFETY: `stack.top()` is the aligned top of a live mapping, `entry`
    // never returns, and `arg` points at the closure `entry::<F>` expects.
    // Without CLONE_VM the child has its own copy of both; with it, the
    // parent sleeps (CLONE_VFORK) while the child uses them.
    let ret = unsafe { arch::clone(flags as usize, stack.top(), entry::<F>, arg) };
    // Only the parent gets here. A vfork-style child spoke in our memory.
    trace::set_speaker(speaker);
    let ret = Errno::from_ret(ret as usize);
    trace!("<... clone resumed>" => &ret);
    ret.map(|pid| pid as Pid)
}

/// Where the child starts: run the closure, then leave through exit_group.
/// `top` is the stack pointer the trampoline started it with.
///
/// # Safety
/// `arg` must point at an `F`. Only the trampoline calls this.
unsafe extern "C" fn entry<F: FnMut() -> i32>(arg: *mut c_void, top: usize) -> ! {
    // What the trampoline promised: a 16-byte-aligned stack, and below its
    // top a zero return address, so that no unwinder walks on.
    debug_assert_eq!(top % 16, 0);
    // SAFETY: the trampoline pushed 8 zero bytes just below `top`.
    debug_assert_eq!(unsafe { *(top as *const usize).sub(1) }, 0);
    if trace::enabled() {
        trace::become_child();
        sys::getpid();
    }
    // SAFETY: the trampoline passes the pointer `clone` made from `&mut F`.
    let child = unsafe { &mut *arg.cast::<F>() };
    sys::exit_group(child())
}
