//! The child's stack, allocated by hand.
//!
//! clone(2) with a stack pointer starts the child on memory the parent
//! provides. We map it with mmap(2) as private anonymous memory, marked
//! `MAP_STACK`, and turn its lowest page into a guard with mprotect(2)
//! (`PROT_NONE`), as pthreads do for thread stacks: the stack grows down, so
//! an overflow runs into the guard and faults with SIGSEGV instead of
//! silently writing over whatever memory lies below. Rust helps: functions
//! with frames larger than a page probe each page on entry, so even a large
//! frame cannot jump over the guard.
//!
//! Ownership across clone: without `CLONE_VM` the child gets a copy-on-write
//! copy of the parent's memory, stack included, so the parent unmaps its own
//! copy as soon as clone returns. With `CLONE_VM | CLONE_VFORK` the parent
//! sleeps until the child has exec'd or exited, and only then unmaps it.

use syscalls::Errno;

use crate::arch::PAGE_SIZE;
use crate::sys;

/// Bytes of usable stack for the child, above the guard page.
///
/// The child only makes a few system calls between clone and exec: no
/// allocation, no formatting beyond fixed buffers, no deep calls. Its
/// largest frame is the PATH search's buffer (`PATH_MAX + NAME_MAX` bytes,
/// as glibc's execvp keeps on its stack). Measured (`stack_high_water_mark`
/// in `tests/library.rs`, `tests/trace_stack.rs`): about 5 KiB in a release
/// build and 9 KiB in a debug build; with `--trace`, which formats each line
/// into a 1 KiB buffer, about 8 KiB and 15 KiB. 64 KiB leaves ample room,
/// and untouched pages cost nothing: the kernel backs only the pages a
/// process writes.
pub const STACK_SIZE: usize = 64 * 1024;

/// A child stack: a guard page, then [`STACK_SIZE`] usable bytes. Unmapped
/// when dropped.
#[derive(Debug)]
pub struct Stack {
    base: *mut u8,
    len: usize,
}

impl Stack {
    /// Map a stack of [`STACK_SIZE`] usable bytes plus a guard page.
    pub fn new() -> Result<Stack, Errno> {
        Stack::with_size(STACK_SIZE)
    }

    /// Map a stack of at least `size` usable bytes plus a guard page.
    pub fn with_size(size: usize) -> Result<Stack, Errno> {
        let len = PAGE_SIZE + size.next_multiple_of(PAGE_SIZE);
        let prot = libc::PROT_READ | libc::PROT_WRITE;
        let why = "the child's stack: clone starts the child on memory we provide";
        let base = sys::mmap_anonymous(len, prot, libc::MAP_STACK, why)?;
        let stack = Stack { base, len };
        // SAFETY: the first page is part of the mapping just made, and
        // nothing uses it yet.
        unsafe { sys::mprotect(base, PAGE_SIZE, libc::PROT_NONE) }?;
        Ok(stack)
    }

    /// The highest address of the stack, aligned to 16 bytes as the x86_64
    /// and aarch64 ABIs require of a stack pointer: the child starts here.
    pub fn top(&self) -> *mut u8 {
        let end = self.base as usize + self.len;
        (end & !15) as *mut u8
    }

    /// The lowest address, where the guard page starts.
    pub fn guard(&self) -> *mut u8 {
        self.base
    }

    /// The whole mapping's length in bytes, guard page included.
    pub fn mapped_len(&self) -> usize {
        self.len
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: `base..base + len` is the mapping made in `with_size`; the
        // child no longer runs on it (see the module documentation).
        let why = "the child runs on its own copy of the stack (no CLONE_VM), or has exec'd";
        let _ = unsafe { sys::munmap(self.base, self.len, why) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_is_aligned_and_above_the_guard() {
        let stack = Stack::new().unwrap();
        let top = stack.top() as usize;
        assert_eq!(top % 16, 0);
        assert_eq!(stack.mapped_len(), PAGE_SIZE + STACK_SIZE);
        assert_eq!(top - stack.guard() as usize, PAGE_SIZE + STACK_SIZE);
    }

    #[test]
    fn odd_sizes_round_up_to_whole_pages() {
        let stack = Stack::with_size(100).unwrap();
        assert_eq!(stack.mapped_len(), 2 * PAGE_SIZE);
    }

    #[test]
    fn the_guard_page_is_mapped_without_access() {
        let stack = Stack::new().unwrap();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let guard = format!(
            "{:x}-{:x} ---p",
            stack.guard() as usize,
            stack.guard() as usize + PAGE_SIZE
        );
        assert!(maps.contains(&guard), "no {guard} in\n{maps}");
    }
}
