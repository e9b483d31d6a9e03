//! Property tests over arbitrary bytes: the PATH search that the child walks
//! (`exec::candidates`, `ExecPlan`), and the real binary fed random command
//! lines. Nothing may panic, the invariants must hold, and the host's
//! hostname, mounts and interfaces must never change.

mod common;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use proptest::prelude::*;

use nsclone::exec::{DEFAULT_PATH, ExecPlan, NulError, candidates};

use common::{Host, nsclone, privileged, soak};

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

    /// The search list is exactly what execvp(3) would try, in order.
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
                let dir = if entry.is_empty() { &b"."[..] } else { entry };
                let (head, name) = candidate.split_at(candidate.len() - program.len());
                prop_assert_eq!(name, &program[..]);
                // A slash joins them, never doubled by the join itself.
                let head = head.strip_suffix(b"/").unwrap_or(head);
                let dir_trimmed = if dir.ends_with(b"/") { &dir[..dir.len() - 1] } else { dir };
                prop_assert_eq!(head, dir_trimmed);
                // Every candidate has a slash: execve never searches.
                prop_assert!(candidate.contains(&b'/'));
            }
        }
    }

    /// Preparing an exec succeeds exactly when no string has a NUL byte,
    /// and never panics.
    #[test]
    fn exec_plans_refuse_exactly_the_nul_bytes(
        program in bytes(10),
        args in proptest::collection::vec(bytes(10), 0..4),
        env in proptest::collection::vec((bytes(6), bytes(10)), 0..4),
        path in proptest::option::of(bytes(20)),
    ) {
        let os = |b: &Vec<u8>| OsString::from_vec(b.clone());
        let args: Vec<OsString> = args.iter().map(os).collect();
        let env: Vec<(OsString, OsString)> = env.iter().map(|(n, v)| (os(n), os(v))).collect();
        let nul = |s: &OsStr| s.as_bytes().contains(&0);
        let any_nul = nul(OsStr::from_bytes(&program))
            || path.as_deref().is_some_and(|p| p.contains(&0) && !program.contains(&b'/') && !program.is_empty())
            || args.iter().any(|a| nul(a))
            || env.iter().any(|(n, v)| nul(n) || nul(v));
        let plan = ExecPlan::new(OsStr::from_bytes(&program), &args, env.clone(), path.as_deref().map(OsStr::from_bytes));
        match plan {
            Ok(plan) => {
                prop_assert!(!any_nul);
                prop_assert_eq!(plan.program().as_bytes(), &program[..]);
                let expected = candidates(&program, path.as_deref());
                for (i, candidate) in expected.iter().enumerate() {
                    prop_assert_eq!(plan.candidate(i).map(|c| c.to_bytes()), Some(&candidate[..]));
                }
                prop_assert!(plan.candidate(expected.len()).is_none());
            }
            Err(NulError(_)) => prop_assert!(any_nul),
        }
    }
}

/// A clock's value in whole seconds, as this process reads it.
fn clock(id: libc::clockid_t) -> i64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the timespec.
    assert_eq!(unsafe { libc::clock_gettime(id, &mut now) }, 0);
    now.tv_sec
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
    let (monotonic, boottime) = (clock(libc::CLOCK_MONOTONIC), clock(libc::CLOCK_BOOTTIME));
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
