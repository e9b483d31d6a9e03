//! What std's runtime gives a program for free, done small for the nsclone
//! binary, which has neither libc nor std: a heap, a way to die of a bug,
//! and its messages.
//!
//! - **A heap** ([`Arena`]): the launcher allocates little and frees
//!   nothing before it exits, so one arena that only grows is plenty: an
//!   allocation moves a pointer. Its first 64 KiB are a static array, in the
//!   program's `.bss`, which the kernel maps at exec (zeroed, backed by a
//!   page only once touched): no system call at all. Beyond that it maps
//!   more with mmap(2). The ordinary launch allocates only for `--show-ns`
//!   and for messages about failures.
//! - **Panics** ([`panic()`]): a bug must not turn into an abort and a core
//!   file, nor a backtrace: one line on standard error, exit status 125.
//! - **Messages** ([`say`]): formatted into a buffer on the stack and
//!   written with one write(2); a failure to write is ignored, so that
//!   nsclone's own output never changes how it ends.
//!
//! None of this is used by a library caller, whose program has std.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::fmt::{self, Write};
use core::panic::PanicInfo;
use core::ptr;

use crate::arch::PAGE_SIZE;
use crate::sys;
use crate::text::FixedBuf;
use crate::wait::EXIT_LAUNCHER;

/// The bytes of the arena that live in `.bss`.
const STATIC_BYTES: usize = 64 * 1024;

/// A heap that only grows: see the module documentation.
pub struct Arena {
    memory: UnsafeCell<[u8; STATIC_BYTES]>,
    /// The next free byte and the end of the current block, as addresses;
    /// 0 before the first allocation.
    next: UnsafeCell<usize>,
    end: UnsafeCell<usize>,
}

// SAFETY: the nsclone binary has one thread, and its child never allocates
// (it may not, between clone and exec); so no two calls ever overlap.
unsafe impl Sync for Arena {}

impl Arena {
    /// An empty arena.
    pub const fn new() -> Arena {
        Arena {
            memory: UnsafeCell::new([0; STATIC_BYTES]),
            next: UnsafeCell::new(0),
            end: UnsafeCell::new(0),
        }
    }
}

impl Default for Arena {
    fn default() -> Arena {
        Arena::new()
    }
}

// SAFETY: every block handed out is inside memory the arena owns (its array
// or a fresh mapping), aligned as asked, and never handed out twice.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: one thread (see `Sync`), so these are ours alone here.
        let (next, end) = unsafe { (&mut *self.next.get(), &mut *self.end.get()) };
        if *next == 0 {
            *next = self.memory.get() as usize;
            *end = *next + STATIC_BYTES;
        }
        let start = next.next_multiple_of(layout.align());
        if start + layout.size() <= *end {
            *next = start + layout.size();
            return start as *mut u8;
        }
        // A new block, big enough for this allocation and more to come.
        let len = (layout.size() + layout.align()).max(STATIC_BYTES);
        let len = len.next_multiple_of(PAGE_SIZE);
        let prot = libc::PROT_READ | libc::PROT_WRITE;
        let why = "the launcher's heap grows: a block it never gives back";
        match sys::mmap_anonymous(len, prot, 0, why) {
            Ok(block) => {
                let start = (block as usize).next_multiple_of(layout.align());
                *next = start + layout.size();
                *end = block as usize + len;
                start as *mut u8
            }
            Err(_) => ptr::null_mut(),
        }
    }

    /// Nothing is given back before the process exits.
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

/// The binary's panic handler: one line naming the bug, and exit status 125
/// (never an abort, a core file or a backtrace).
pub fn panic(info: &PanicInfo<'_>) -> ! {
    let mut line = FixedBuf::<512>::new();
    let _ = write!(line, "nsclone: internal error: {}", info.message());
    if let Some(at) = info.location() {
        let _ = write!(line, " (at {}:{})", at.file(), at.line());
    }
    let _ = sys::write(libc::STDERR_FILENO, line.line());
    sys::exit_group(EXIT_LAUNCHER)
}

/// Write a message on standard error with one write(2), which keeps it whole
/// beside the trace lines of a child writing at the same time. Its failure
/// (a closed or full standard error) is ignored: nsclone's own messages
/// never change how it ends.
pub fn say(message: fmt::Arguments<'_>) {
    // Room for the longest path a message may name (PATH_MAX, NAME_MAX).
    let mut buf = FixedBuf::<8192>::new();
    let _ = buf.write_fmt(message);
    let _ = sys::write(libc::STDERR_FILENO, buf.line());
}

/// Write text that is already formatted (a table of lines) on standard
/// error, with one write(2) whose failure is ignored, as [`say`].
pub fn write_text(text: &[u8]) {
    let _ = sys::write(libc::STDERR_FILENO, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arena_hands_out_aligned_disjoint_blocks_and_grows() {
        let arena = Box::new(Arena::new());
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        // Enough to spill out of the static array into mapped blocks.
        for (i, size) in [1, 7, 64, 4096, 40_000, 100_000, 3, 200_000]
            .iter()
            .enumerate()
        {
            let align = 1 << (i % 7);
            let layout = Layout::from_size_align(*size, align).unwrap();
            // SAFETY: a valid layout.
            let p = unsafe { arena.alloc(layout) } as usize;
            assert_ne!(p, 0);
            assert_eq!(p % align, 0);
            // SAFETY: the block is ours, `size` bytes long.
            unsafe { ptr::write_bytes(p as *mut u8, 0xa5, *size) };
            for &(q, len) in &blocks {
                assert!(p + size <= q || q + len <= p, "overlap");
            }
            blocks.push((p, *size));
        }
    }
}
