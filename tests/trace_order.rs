//! `--trace` reads in causal order: the launcher's clone, which creates the
//! child, comes before anything the child does.
//!
//! The launcher writes its clone line before the call, as strace does
//! (`launcher[PID] clone(child_stack=..., flags=...) <unfinished ...>`), and
//! the result after it (`launcher[PID] <... clone resumed> = CHILDPID`).
//! Written only after clone returned, the line would race with the child's
//! own lines, and in vfork style always lose: the launcher sleeps until the
//! child has exec'd.
//!
//! Each configuration runs many times, through a pipe as `2>&1 | cat`
//! would, fork style and vfork style, on one CPU (`taskset -c 0`) and on
//! all: every run must be in order.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{Host, privileged, run_within, skip, soak, stderr};

const NSCLONE: &str = env!("CARGO_BIN_EXE_nsclone");

/// Check one run's trace; the first thing wrong with it, if any.
fn check(trace: &str) -> Result<(), (&'static str, String)> {
    let lines: Vec<&str> = trace.lines().collect();
    let find = |what: &dyn Fn(&str) -> bool| lines.iter().position(|l| what(l));
    let launcher = |l: &str| l.starts_with("launcher[");
    let clone = find(&|l| launcher(l) && l.contains("] clone("))
        .ok_or(("no launcher clone line", String::new()))?;
    let first_child = find(&|l| l.starts_with("child[")).ok_or(("no child line", String::new()))?;
    if first_child < clone {
        return Err((
            "a child line before the launcher's clone line",
            format!(
                "line {first_child}: {}\nline {clone}: {}",
                lines[first_child], lines[clone]
            ),
        ));
    }
    if !lines[clone].contains(") <unfinished ...>") {
        return Err((
            "the clone line is not `clone(...) <unfinished ...>`",
            lines[clone].into(),
        ));
    }
    let resumed = find(&|l| launcher(l) && l.contains("] <... clone resumed> = "))
        .ok_or(("no `<... clone resumed> = PID` line", String::new()))?;
    if resumed < clone {
        return Err(("clone resumed before clone", lines[resumed].into()));
    }
    // The pid clone returned is the pid the child's lines name (no --pid
    // here, so the child sees its own pid as the launcher does).
    let returned = lines[resumed]
        .split("<... clone resumed> = ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap_or_default();
    let child = lines[first_child]
        .strip_prefix("child[")
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_default();
    if returned.is_empty() || returned != child {
        return Err((
            "clone returned another pid than the child's",
            format!("{}\n{}", lines[resumed], lines[first_child]),
        ));
    }
    Ok(())
}

/// Run `nsclone --trace -q [--vfork] true` `runs` times, on CPU 0 alone if
/// `one_cpu`; every trace must be in causal order.
fn in_order(style: &[&str], one_cpu: bool) {
    let what = format!(
        "--trace -q {}true{}",
        style.iter().map(|s| format!("{s} ")).collect::<String>(),
        if one_cpu {
            " on one CPU (taskset -c 0)"
        } else {
            ""
        }
    );
    if !privileged(&what) {
        return;
    }
    let taskset = Command::new("taskset")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if one_cpu && !taskset {
        skip(&what, "taskset is not installed (util-linux)");
        return;
    }
    let _host = Host::guard();
    let runs = soak(300, 3000);
    let mut problems: BTreeMap<&str, (usize, String)> = BTreeMap::new();
    for _ in 0..runs {
        let mut command = if one_cpu {
            let mut taskset = Command::new("taskset");
            taskset.args(["-c", "0", NSCLONE]);
            taskset
        } else {
            Command::new(NSCLONE)
        };
        command
            .args(["--trace", "-q"])
            .args(style)
            .arg("true")
            .env("PATH", "/usr/bin:/bin");
        let out = run_within(&mut command, &what);
        let trace = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{what}: {trace}");
        if let Err((problem, lines)) = check(&trace) {
            let seen = problems.entry(problem).or_insert((0, lines));
            seen.0 += 1;
        }
    }
    let report: Vec<String> = problems
        .iter()
        .map(|(problem, (count, example))| {
            format!("{problem}: {count}/{runs} runs, e.g.\n{example}")
        })
        .collect();
    assert!(report.is_empty(), "{what}:\n{}", report.join("\n"));
}

#[test]
fn fork_style_trace_is_in_causal_order() {
    in_order(&[], false);
}

#[test]
fn fork_style_trace_on_one_cpu_is_in_causal_order() {
    in_order(&[], true);
}

#[test]
fn vfork_style_trace_is_in_causal_order() {
    in_order(&["--vfork"], false);
}

#[test]
fn vfork_style_trace_on_one_cpu_is_in_causal_order() {
    in_order(&["--vfork"], true);
}

/// The checker itself, on traces written by hand: it accepts the order and
/// the format promised, and rejects what today's trace does.
#[test]
fn the_checker_tells_causal_order_from_its_violations() {
    let clone = "launcher[10] clone(child_stack=0x7f00, flags=CLONE_NEWUTS|SIGCHLD) <unfinished ...>  # why";
    let child = "child[11] sethostname(\"newhostname\", 11) = 0  # why";
    let resumed = "launcher[10] <... clone resumed> = 11  # why";
    let trace = |lines: &[&str]| lines.join("\n") + "\n";
    assert_eq!(check(&trace(&[clone, child, resumed])), Ok(()));
    assert_eq!(check(&trace(&[clone, resumed, child])), Ok(()));
    let problem = |lines: &[&str]| check(&trace(lines)).unwrap_err().0;
    assert_eq!(
        problem(&[child, clone, resumed]),
        "a child line before the launcher's clone line"
    );
    let today = "launcher[10] clone(child_stack=0x7f00, flags=CLONE_NEWUTS|SIGCHLD) = 11  # why";
    assert_eq!(
        problem(&[today, child]),
        "the clone line is not `clone(...) <unfinished ...>`"
    );
    assert_eq!(
        problem(&[clone, child]),
        "no `<... clone resumed> = PID` line"
    );
    let other = "launcher[10] <... clone resumed> = 12";
    assert_eq!(
        problem(&[clone, child, other]),
        "clone returned another pid than the child's"
    );
}
