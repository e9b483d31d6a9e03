//! The nsclone binary is a program without libc: its ELF file says so
//! (an executable with no interpreter to load it and no relocations to
//! apply, entered at its own `_start`), its symbols hold none of glibc's,
//! and under strace its first system call after the execve that started it
//! is one of nsclone's own, which `--trace` narrates.
//!
//! The ELF header and program headers are read here directly (the format is
//! in elf(5)); `nm` lists the symbols.

mod common;

use std::process::Command;

use common::{can_strace, skip};

const NSCLONE: &str = env!("CARGO_BIN_EXE_nsclone");

/// The little-endian integer of `n` bytes at `at` in `bytes`.
fn le(bytes: &[u8], at: usize, n: usize) -> u64 {
    bytes[at..at + n]
        .iter()
        .rev()
        .fold(0, |v, &b| v << 8 | b as u64)
}

#[test]
fn the_elf_file_is_a_static_executable_without_interpreter() {
    let elf = std::fs::read(NSCLONE).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(elf[4], 2, "64-bit");
    const ET_EXEC: u64 = 2;
    assert_eq!(
        le(&elf, 16, 2),
        ET_EXEC,
        "an executable, not a (static) PIE"
    );
    // The program headers: none may be PT_INTERP (3), the dynamic loader.
    let (phoff, phentsize, phnum) = (le(&elf, 32, 8), le(&elf, 54, 2), le(&elf, 56, 2));
    let types: Vec<u64> = (0..phnum)
        .map(|i| le(&elf, (phoff + i * phentsize) as usize, 4))
        .collect();
    const PT_LOAD: u64 = 1;
    const PT_INTERP: u64 = 3;
    assert!(types.contains(&PT_LOAD), "{types:?}");
    assert!(!types.contains(&PT_INTERP), "no dynamic loader: {types:?}");
}

#[test]
fn no_symbol_of_glibc_and_the_entry_is_our_start() {
    let Ok(out) = Command::new("nm").arg(NSCLONE).output() else {
        skip("nm", "nm (binutils) is not installed");
        return;
    };
    assert!(out.status.success(), "{out:?}");
    let symbols = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = symbols
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    for glibc in [
        "__libc_start_main",
        "__libc_start_call_main",
        "_IO_stdin_used",
        "malloc",
        "printf",
        "__errno_location",
        "_dl_relocate_static_pie",
        "__libc_setup_tls",
    ] {
        assert!(!names.contains(&glibc), "glibc's {glibc} is in the binary");
    }
    for ours in [
        "_start", "memcpy", "memset", "memcmp", "memmove", "strlen", "environ",
    ] {
        assert!(names.contains(&ours), "no {ours} of our own");
    }
    // The ELF entry point is our `_start`.
    let elf = std::fs::read(NSCLONE).unwrap();
    let entry = le(&elf, 24, 8);
    let start = symbols
        .lines()
        .find(|l| l.ends_with(" _start"))
        .and_then(|l| u64::from_str_radix(l.split_whitespace().next()?, 16).ok());
    assert_eq!(start, Some(entry), "the kernel enters at _start");
}

#[test]
fn the_first_system_call_after_exec_is_our_own() {
    if !can_strace("the_first_system_call_after_exec_is_our_own") {
        return;
    }
    let out = Command::new("strace")
        .args(["-qq", "-e", "trace=all", NSCLONE, "--version"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let calls: Vec<&str> = log
        .lines()
        .map(|l| l.split('(').next().unwrap_or(""))
        .collect();
    // --version parses, then writes: nothing runs before nsclone's code.
    assert_eq!(calls, ["execve", "write", "exit_group"], "{log}");
}

#[test]
fn a_panic_prints_one_line_and_exits_125() {
    // A debug build panics on purpose when asked (src/main.rs): the panic
    // handler must print one line and end with 125, never abort.
    let out = Command::new(NSCLONE)
        .env("NSCLONE_TEST_PANIC", "1")
        .args(["-q", "true"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{out:?}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(
            "nsclone: internal error: asked to, by NSCLONE_TEST_PANIC (at src/main.rs:"
        ),
        "{err}"
    );
}
