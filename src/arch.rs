//! The processor's part: the only assembly in nsclone.
//!
//! Everything that depends on the instruction set lives in one file per
//! architecture: the clone trampoline, the program's `_start`, the memory
//! functions a program without libc must bring, a trap instruction and the
//! page size. Porting nsclone means writing that one file (musl does the
//! same: `src/thread/*/clone.s`, `crt/*/crt_arch.h`).

#[cfg(target_arch = "x86_64")]
#[path = "arch/x86_64.rs"]
mod imp;

#[cfg(not(target_arch = "x86_64"))]
compile_error!(
    "nsclone's assembly exists for x86_64 only; a port adds src/arch/<arch>.rs \
     (see the module documentation of src/arch.rs)"
);

pub use imp::{PAGE_SIZE, clone, trap};
