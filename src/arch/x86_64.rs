//! x86_64: all of nsclone's assembly, and the two constants that depend on
//! the processor.
//!
//! Kernel calling convention: rax = system call number, then rdi, rsi, rdx,
//! r10, r8, r9; the `syscall` instruction clobbers rcx and r11. The C ABI
//! (System V): arguments in rdi, rsi, rdx, rcx, r8, r9; the stack pointer is
//! 16-byte aligned before a `call`, so a function finds it 8 bytes off
//! (the return address); the direction flag is clear.
//!
//! Four pieces, each used once:
//! - [`clone`]: the clone(2) trampoline, for the child's empty stack;
//! - [`program_start!`](crate::program_start): `_start`, where the kernel
//!   starts the nsclone binary;
//! - [`memory_functions!`](crate::memory_functions): memcpy and its
//!   relatives, which compiled Rust calls and libc would otherwise provide;
//! - [`trap`]: stop at once.

use core::arch::asm;
use core::ffi::c_void;

/// The page size on x86_64, always 4 KiB.
pub const PAGE_SIZE: usize = 4096;

/// Make the raw clone system call; in the child, call `entry(arg, top)` on
/// the stack at `stack`, where `top` is that stack's address.
///
/// Returns the child's pid, or a negated errno, in the parent only.
///
/// # Safety
/// `stack` must be the 16-byte-aligned top of memory the child may use as
/// its stack, and `entry` must never return. See [`crate::clone::clone`].
pub unsafe fn clone(
    flags: usize,
    stack: *mut u8,
    entry: unsafe extern "C" fn(*mut c_void, usize) -> !,
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
            "mov rdi, r13",   // entry's first argument: the closure
            "mov rsi, rsp",   // its second: the stack's top, for its checks
            "push rbp",       // a zero return address, as if called...
            "jmp r12",        // ...by nobody: entry(arg, top), never returns
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

/// Define `_start`, the program's first instruction, to call `$start` with
/// the stack the kernel built: `$start(sp: *const usize) -> !`. See
/// [`crate::start`] for what is on that stack.
///
/// For the nsclone binary only (it is linked with `-nostartfiles`); an
/// ordinary program gets its `_start` from the C runtime.
#[macro_export]
macro_rules! program_start {
    ($start:path) => {
        core::arch::global_asm!(
            ".globl _start",
            ".type _start, @function",
            "_start:",
            "    xor ebp, ebp", // the outermost frame: unwinders stop here
            "    mov rdi, rsp", // $start's argument: argc, argv, envp, auxv
            "    and rsp, -16", // the ABI's alignment (the kernel gives it)
            "    call {start}", // pushes 8 bytes, as every call does
            "    ud2",          // $start never returns
            start = sym $start,
        );
    };
}

/// Define memcpy, memmove, memset, memcmp, bcmp and strlen.
///
/// Compiled Rust calls them (a slice copy, a comparison, `CStr::from_ptr`)
/// and expects libc to provide them; without libc, this does. They are
/// written in assembly so that the compiler cannot recognize a copy loop
/// and turn it back into a call to memcpy itself. `rep movsb` copies rcx
/// bytes from `[rsi]` to `[rdi]`, `rep stosb` stores al rcx times, `repe cmpsb`
/// compares while equal, `repne scasb` scans for al: on current processors
/// the first two are as fast as hand-unrolled loops.
///
/// For the nsclone binary only; an ordinary program links libc's.
#[macro_export]
macro_rules! memory_functions {
    () => {
        core::arch::global_asm!(
            // memcpy(rdi = dst, rsi = src, rdx = n) -> dst
            ".globl memcpy",
            ".type memcpy, @function",
            "memcpy:",
            "    mov rax, rdi",
            "    mov rcx, rdx",
            "    rep movsb",
            "    ret",
            // memmove(dst, src, n) -> dst: backwards when dst overlaps the
            // end of src, so no byte is overwritten before it is read.
            ".globl memmove",
            ".type memmove, @function",
            "memmove:",
            "    mov rax, rdi",
            "    mov rcx, rdx",
            "    cmp rdi, rsi",
            "    jbe 2f", // dst at or before src: forwards is safe
            "    lea r8, [rsi + rdx]",
            "    cmp rdi, r8",
            "    jae 2f", // dst after the end of src: no overlap
            "    lea rsi, [rsi + rdx - 1]",
            "    lea rdi, [rdi + rdx - 1]",
            "    std", // copy downwards...
            "    rep movsb",
            "    cld", // ...and restore the direction the ABI promises
            "    ret",
            "2:",
            "    rep movsb",
            "    ret",
            // memset(rdi = dst, esi = byte, rdx = n) -> dst
            ".globl memset",
            ".type memset, @function",
            "memset:",
            "    mov r8, rdi",
            "    mov eax, esi",
            "    mov rcx, rdx",
            "    rep stosb",
            "    mov rax, r8",
            "    ret",
            // memcmp(rdi = a, rsi = b, rdx = n) -> a[i] - b[i] at the first
            // difference, 0 if none; bcmp only promises zero or not.
            ".globl memcmp",
            ".type memcmp, @function",
            ".globl bcmp",
            ".type bcmp, @function",
            "memcmp:",
            "bcmp:",
            "    xor eax, eax",
            "    mov rcx, rdx",
            "    repe cmpsb", // stops after the first unequal pair
            "    je 3f",      // equal to the end (or n == 0: ZF from xor)
            "    movzx eax, byte ptr [rdi - 1]",
            "    movzx ecx, byte ptr [rsi - 1]",
            "    sub eax, ecx",
            "3:",
            "    ret",
            // strlen(rdi = s) -> bytes before the NUL
            ".globl strlen",
            ".type strlen, @function",
            "strlen:",
            "    mov rdx, rdi",
            "    xor eax, eax", // al = 0: the byte to find
            "    mov rcx, -1",  // no limit
            "    repne scasb",  // rdi ends one past the NUL
            "    lea rax, [rdi - 1]",
            "    sub rax, rdx",
            "    ret",
        );
    };
}
