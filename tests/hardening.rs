//! The launcher's answers to commands that cannot be found or executed:
//! each exit code with the right words, the PATH search's rules, PATH
//! unset. (The guard page is tested in `library.rs`.)

mod common;

use std::os::unix::process::ExitStatusExt;

use common::{Host, executable, nsclone, privileged, skip, stderr, stdout, tempdir};

#[test]
fn with_path_unset_the_default_path_is_searched() {
    if !privileged("PATH unset") {
        return;
    }
    let _host = Host::guard();
    // `env` is in /usr/bin or /bin, both in the default path; it sees PATH
    // still unset: nsclone adds nothing to the environment.
    let out = nsclone()
        .env_remove("PATH")
        .env("NSCLONE_TEST", "seen")
        .args(["-q", "env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).lines().any(|l| l == "NSCLONE_TEST=seen"));
    assert!(!stdout(&out).lines().any(|l| l.starts_with("PATH=")));

    // A command found only outside the default path is not found.
    let dir = tempdir();
    executable(dir.path(), "nsclone-only-here", "#!/bin/sh\necho here\n");
    let out = nsclone()
        .current_dir(dir.path())
        .env_remove("PATH")
        .args(["-q", "nsclone-only-here"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    let out = nsclone()
        .env("PATH", dir.path())
        .args(["-q", "nsclone-only-here"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "here\n", "{}", stderr(&out));
}

#[test]
fn unusable_path_entries_are_passed_over_and_reported_if_nothing_else_works() {
    if !privileged("PATH entries") {
        return;
    }
    let _host = Host::guard();
    let dir = tempdir();
    // Three things called `tool` that cannot run: a directory, a file
    // without execute permission, and, last, the real one.
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    for d in [&a, &b, &c] {
        std::fs::create_dir(d).unwrap();
    }
    std::fs::create_dir(a.join("tool")).unwrap();
    std::fs::write(b.join("tool"), "#!/bin/sh\necho b\n").unwrap();
    executable(&c, "tool", "#!/bin/sh\necho c\n");
    let path = |dirs: &[&std::path::Path]| std::env::join_paths(dirs).unwrap();

    // EACCES is remembered, and the search goes on to the one that works.
    let out = nsclone()
        .env("PATH", path(&[&a, &b, &c]))
        .args(["-q", "tool"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "c\n", "{}", stderr(&out));

    // Without it, the first EACCES is what is reported: 126, and why.
    let out = nsclone()
        .env("PATH", path(&[&a, &b]))
        .args(["-q", "tool"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(126));
    let expected = format!(
        "nsclone: execve({:?}): EACCES (Permission denied): it is a directory\n",
        a.join("tool")
    );
    assert_eq!(stderr(&out), expected);
    let out = nsclone()
        .env("PATH", path(&[&b]))
        .args(["-q", "tool"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(126));
    assert!(stderr(&out).ends_with("it has no execute permission (chmod +x)\n"));

    // An empty name is never found.
    let out = nsclone().args(["-q", ""]).output().unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
}

#[test]
fn a_binary_whose_loader_is_missing_exits_126_and_says_so() {
    if !privileged("missing loader") {
        return;
    }
    let _host = Host::guard();
    let elf = std::fs::read("/bin/true").unwrap();
    let Some((at, len)) = elf_interpreter(&elf) else {
        skip(
            "missing loader",
            "/bin/true names no ELF interpreter (statically linked?)",
        );
        return;
    };
    // The same binary, naming a loader that does not exist: the last byte
    // of its name changed, so the length stays.
    let mut broken = elf.clone();
    broken[at + len - 1] = if elf[at + len - 1] == b'X' {
        b'Y'
    } else {
        b'X'
    };
    let dir = tempdir();
    let path = executable(dir.path(), "true", "");
    std::fs::write(&path, &broken).unwrap();
    let out = nsclone().arg("-q").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "nsclone: execve({path:?}): ENOENT (No such file or directory): \
             its ELF interpreter (the dynamic loader named in the binary) does not exist\n"
        )
    );
    assert!(out.status.signal().is_none());
}

/// Where the interpreter's path lies in a 64-bit little-endian ELF file
/// (the `PT_INTERP` program header, elf(5)), and its length without the
/// NUL: whatever loader this distribution uses, wherever it lives.
fn elf_interpreter(elf: &[u8]) -> Option<(usize, usize)> {
    let u16_at = |at: usize| Some(u16::from_le_bytes(elf.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?));
    let u64_at = |at: usize| Some(u64::from_le_bytes(elf.get(at..at + 8)?.try_into().ok()?));
    // "\x7fELF", ELFCLASS64, ELFDATA2LSB.
    if !elf.starts_with(b"\x7fELF\x02\x01") {
        return None;
    }
    let (phoff, phentsize, phnum) = (u64_at(0x20)?, u16_at(0x36)?, u16_at(0x38)?);
    (0..phnum as usize)
        .map(|i| phoff as usize + i * phentsize as usize)
        .find(|&ph| u32_at(ph) == Some(3)) // PT_INTERP
        .and_then(|ph| {
            let (offset, size) = (u64_at(ph + 8)? as usize, u64_at(ph + 32)? as usize);
            let path = elf.get(offset..offset + size)?;
            let len = path.iter().position(|&b| b == 0)?;
            (len > 0).then_some((offset, len))
        })
}
