//! The clone trampoline for x86_64.
//!
//! Kernel calling convention: rax = system call number, then rdi, rsi, rdx,
//! r10, r8, r9; the `syscall` instruction clobbers rcx and r11. For clone:
//! rdi = flags, rsi = new stack pointer, rdx = parent_tid, r10 = child_tid,
//! r8 = tls.

use core::arch::asm;
use core::ffi::c_void;

/// The page size on x86_64, always 4 KiB.
pub const PAGE_SIZE: usize = 4096;

/// Make the raw clone system call; in the child, call `entry(arg)` on the
/// stack at `stack`.
///
/// Returns the child's pid, or a negated errno, in the parent only.
///
/// # Safety
/// `stack` must be the 16-byte-aligned top of memory the child may use as
/// its stack, and `entry` must never return. See [`crate::clone::clone`].
pub unsafe fn clone(
    flags: usize,
    stack: *mut u8,
    entry: unsafe extern "C" fn(*mut c_void) -> !,
    arg: *mut c_void,
) -> isize {
    let ret: isize;
    // SAFETY: the caller guarantees the stack and entry. The child never
    // leaves this block: it jumps to `entry`, so it never runs compiled code
    // that would read the parent's locals from its own, empty stack.
    unsafe {
        asm!(
            "syscall",        // clone(flags, stack, NULL, NULL, 0)
            "test rax, rax",  // 0 in the child; pid or -errno in the parent
            "jnz 2f",         // the parent goes on after the block
            "xor ebp, ebp",   // child: no caller frame, unwinders stop here
            "mov rdi, r13",   // entry's only argument
            "push rbp",       // a zero return address, as if called...
            "jmp r12",        // ...by nobody: entry(arg), never returns
            "2:",
            inlateout("rax") libc::SYS_clone as isize => ret,
            in("rdi") flags,
            in("rsi") stack,
            in("rdx") 0usize,
            in("r10") 0usize,
            in("r8") 0usize,
            in("r12") entry, // rcx and r11 would not survive the syscall
            in("r13") arg,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Stop at once with an invalid-instruction trap (SIGILL). Placed after
/// calls that cannot return, so that a broken promise cannot run on.
pub fn trap() -> ! {
    // SAFETY: ud2 raises SIGILL; execution never continues past it.
    unsafe { asm!("ud2", options(noreturn, nomem, nostack)) }
}
