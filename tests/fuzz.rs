//! Property tests over arbitrary bytes: the PATH search that the child walks
//! (`exec::candidates`, `ExecPlan`), and the real binary fed random command
//! lines. Nothing may panic, the invariants must hold, and the host's
//! hostname, mounts and interfaces must never change.

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use proptest::prelude::*;

use nsclone::exec::{Argv, DEFAULT_PATH, NAME_MAX, candidates};

use common::{Host, clock_secs, nsclone, privileged, soak};

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> + Clone {
    // Mostly path-like bytes, so that slashes, colons and NULs are common.
    let byte = prop_oneof![
        4 => Just(b'/'),
        4 => Just(b':'),
        1 => Just(0u8),
        8 => b'a'..=b'c',
        2 => any::<u8>(),
    ];
    proptest::collection::vec(byte, 0..max)
}

/// `cases` runs, without writing regression files into the source tree (a
/// failure prints its shrunk input).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(4096))]

    /// The search list is exactly what glibc's execvp(3) would try, in
    /// order: the name as it is if it has a slash, else each PATH entry
    /// joined with a slash (glibc's join, which doubles a trailing one), an
    /// empty entry meaning the name alone, in the current directory.
    #[test]
    fn candidates_follow_execvp(program in bytes(12), path in proptest::option::of(bytes(40))) {
        let found = candidates(&program, path.as_deref());
        if program.is_empty() {
            prop_assert!(found.is_empty());
        } else if program.contains(&b'/') {
            prop_assert_eq!(found, vec![program.clone()]);
        } else {
            let entries: Vec<&[u8]> = path.as_deref().unwrap_or(DEFAULT_PATH).split(|&b| b == b':').collect();
            prop_assert_eq!(found.len(), entries.len());
            for (candidate, entry) in found.iter().zip(entries) {
                let expected = match entry {
                    b"" => program.clone(),
                    dir => [dir, b"/", &program].concat(),
                };
                prop_assert_eq!(candidate, &expected);
            }
        }
        prop_assert!(program.len() <= NAME_MAX, "names are short here");
    }

    /// An owned argv is built exactly when no word has a NUL byte, and
    /// holds the words as given; nothing panics.
    #[test]
    fn owned_argvs_refuse_exactly_the_nul_bytes(
        words in proptest::collection::vec(bytes(10), 1..5),
    ) {
        let first_nul = words.iter().find(|w| w.contains(&0));
        match Argv::owned(words.iter().map(Vec::as_slice)) {
            Ok(argv) => {
                prop_assert!(first_nul.is_none());
                let back: Vec<&[u8]> = argv.words().collect();
                prop_assert_eq!(back, words.iter().map(Vec::as_slice).collect::<Vec<_>>());
                prop_assert_eq!(argv.program(), &words[0][..]);
            }
            Err(word) => prop_assert_eq!(Some(&word.to_vec()), first_nul),
        }
    }
}

/// `--NAME=SECS` with SECS within a few seconds of `-value`: an offset that
/// brings the clock that reads `value` to about zero, on either side.
fn offset_near_minus(name: &'static str, value: i64) -> impl Strategy<Value = Vec<Vec<u8>>> {
    (-3i64..=3).prop_map(move |d| vec![format!("--{name}={}", d - value).into_bytes()])
}

/// A command line made of options (valid, invalid, half-formed), always
/// ending in `-- true`, so that whatever the options do, the only program
/// that can run is `true` (or `-`, which does not exist). Clock offsets are
/// drawn around zero, and around minus the clocks' current values, so that
/// offsets that would make a clock negative come up however long this
/// machine has been up.
fn command_line() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let (monotonic, boottime) = (
        clock_secs(libc::CLOCK_MONOTONIC),
        clock_secs(libc::CLOCK_BOOTTIME),
    );
    let option = prop_oneof![
        bytes(70).prop_map(|v| vec![b"-H".to_vec(), v]),
        bytes(70).prop_map(|v| vec![[&b"--hostname="[..], &v[..]].concat()]),
        bytes(70).prop_map(|v| vec![[&b"--kill-child="[..], &v[..]].concat()]),
        Just(vec![b"--kill-child".to_vec()]),
        Just(vec![b"-q".to_vec()]),
        Just(vec![b"--show-ns".to_vec()]),
        proptest::sample::subsequence(b"impnUCTu".to_vec(), 1..4)
            .prop_map(|flags| vec![[&b"-"[..], &flags[..]].concat()]),
        Just(vec![b"--mount-proc".to_vec()]),
        bytes(12).prop_map(|v| vec![[&b"--monotonic="[..], &v[..]].concat()]),
        (-1000i64..1000).prop_map(|secs| vec![format!("--boottime={secs}").into_bytes()]),
        offset_near_minus("boottime", boottime),
        offset_near_minus("monotonic", monotonic),
        bytes(6).prop_map(|v| vec![[&b"-"[..], &v[..]].concat()]),
        bytes(12).prop_map(|v| vec![[&b"--"[..], &v[..]].concat()]),
    ];
    proptest::collection::vec(option, 0..5).prop_map(|options| {
        let mut args: Vec<Vec<u8>> = options.into_iter().flatten().collect();
        args.extend([b"--".to_vec(), b"true".to_vec()]);
        args
    })
}

/// The real binary, fed random command lines: it ends with 0 (true ran, or
/// help), 125 with a one-line error (a refused offset among them), or 127
/// (the `-` command); it never crashes, and the host never changes.
#[test]
fn random_command_lines_never_harm_the_host() {
    if !privileged("random command lines") {
        return;
    }
    let host = Host::snapshot();
    let cases = soak(128, 2000) as u32;
    let tally = std::cell::RefCell::new(std::collections::BTreeMap::new());
    proptest!(config(cases), |(args in command_line())| {
        // The kernel cannot pass a NUL inside an argument.
        let args: Vec<OsString> = args.into_iter()
            .map(|a| OsString::from_vec(a.into_iter().map(|b| if b == 0 { b'0' } else { b }).collect()))
            .collect();
        let out = nsclone().args(&args).output().unwrap();
        let code = out.status.code();
        *tally.borrow_mut().entry(code).or_insert(0) += 1;
        prop_assert!(matches!(code, Some(0 | 125 | 127)), "{args:?}: {:?}", out.status);
        if code == Some(125) {
            let err = String::from_utf8_lossy(&out.stderr);
            prop_assert_eq!(err.lines().count(), 1, "{:?}: {}", args, err);
            prop_assert!(out.stdout.is_empty());
        }
        host.assert_unchanged();
    });
    eprintln!(
        "{cases} random command lines, exit codes: {:?}",
        tally.borrow()
    );
}
