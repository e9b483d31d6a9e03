//! Link the nsclone binary without libc: no C start files (its `_start` is
//! its own, in src/arch/), no default libraries, statically, and not as a
//! position-independent executable, so that nothing has to relocate it
//! before `_start` runs (see the README, "A program without libc").
//!
//! `rustc-link-arg-bins` reaches the binary only: the tests and benches stay
//! ordinary std programs. It would also reach the binary's own unit-test
//! harness, which could not start without libc's start files; hence
//! `test = false` on the binary in Cargo.toml (its logic is in the library,
//! and tested there).

fn main() {
    for arg in ["-nostartfiles", "-nostdlib", "-static", "-no-pie"] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
