//! The documentation is run: every ```` ```console ```` block of README.md
//! and docs/ is replayed at a real terminal and its output compared, and
//! every excerpt of the source that the docs quote is checked against the
//! source. So the docs cannot drift from the program.
//!
//! # How a console block is replayed
//! A block is one terminal session. A line starting with `$ ` is typed at
//! the host's shell; a line starting with `# ` is typed at the prompt of a
//! shell started inside nsclone (dash's prompt for root); the other lines
//! are the output expected from the line typed before them. The runner
//! starts `sh -i` on a pseudo-terminal (util-linux `script`), waits for each
//! prompt, types the line, and cuts the output at the next prompt, exactly
//! as a reader would see it, echo included.
//!
//! The session runs as root in a fresh UTS and mount namespace
//! (util-linux `unshare`), so the host is untouched: the hostname there is
//! [`HOSTNAME`], and `/usr/local/bin` is a scratch directory holding
//! nsclone (built with `--release`) and cargo. The environment is fixed
//! (below), so the PATH search and the variable count that `--trace` shows
//! are the same on every machine; the working directory is the repository.
//!
//! # How output is compared
//! - Numbers that change from run to run are masked on both sides: pids
//!   (after `launcher[`, `child[`, `pid `, `si_pid=`, `kill(`, `wait4(`,
//!   `/proc/`, and clone's and wait4's results), addresses (`0x` and 8 or
//!   more hex digits) and inodes (9 digits or more).
//! - The launcher and the child run at the same time, so their trace lines
//!   interleave differently from run to run: lines are compared in order
//!   within each stream (the launcher's trace, the child's trace, everything
//!   else), not across streams.
//!
//! # Updating the docs
//! `NSCLONE_DOCS=overwrite cargo test --test docs` rewrites each block's
//! outputs with what the program printed (then review the diff).
//!
//! # Excerpts
//! A link to `src/FILE#LA-LB` followed by a ```` ```rust ```` block claims
//! that the block is lines LA to LB of FILE; the test checks it, and says
//! where the excerpt moved to when it did.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The host's hostname inside the doc sessions.
const HOSTNAME: &str = "laptop";

/// PATH in the doc sessions: Debian's default for root.
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How long one typed line may run before its prompt comes back.
const STEP_TIMEOUT: Duration = Duration::from_secs(120);

/// How long the terminal must stay quiet before a prompt counts as one.
const QUIET: Duration = Duration::from_millis(150);

const HOST_PROMPT: &str = "$ ";
const CHILD_PROMPT: &str = "# ";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether the doc sessions can run here; loudly skipped when not, and a
/// failure in CI, where they must run.
fn can_run() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let tools = ["unshare", "script", "strace", "make"]
        .into_iter()
        .filter(|tool| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect::<Vec<_>>();
    if root && tools.is_empty() {
        return true;
    }
    let why = if root {
        format!("missing tools: {tools:?}")
    } else {
        "not root (nsclone needs CAP_SYS_ADMIN)".to_string()
    };
    if std::env::var_os("CI").is_some_and(|v| v == "true") {
        panic!("the documentation tests must run in CI, but: {why}");
    }
    eprintln!("\n!!! SKIPPED: the documentation tests cannot run: {why} !!!\n");
    false
}

/// Build nsclone with `--release` once per test run, and write the shell's
/// startup file. Returns the directory for the sessions' scratch files.
fn prepare() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--release", "--quiet"])
            .current_dir(repo())
            .status()
            .unwrap();
        assert!(status.success(), "cargo build --release failed");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("docs");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Only the host's shell gets the `$ ` prompt: ENV is read once and
        // unset, so a shell started inside nsclone keeps dash's `# `.
        std::fs::write(dir.join("shrc"), "PS1='$ '\nunset ENV\n").unwrap();
        dir
    })
}

/// A fresh directory to mount on `/usr/local/bin` in one session, holding
/// nsclone (the release build), cargo and rustc.
fn bin_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let bin = prepare().join(format!("bin-{}", N.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(repo().join("target/release/nsclone"), bin.join("nsclone")).unwrap();
    let toolchain = Path::new(env!("CARGO")).parent().unwrap();
    for tool in ["cargo", "rustc"] {
        std::os::unix::fs::symlink(toolchain.join(tool), bin.join(tool)).unwrap();
    }
    bin
}

/// A shell session on a pseudo-terminal.
struct Session {
    child: Child,
    stdin: ChildStdin,
    out: Arc<Mutex<(Vec<u8>, Instant, bool)>>,
}

impl Session {
    fn start() -> Session {
        let bin = bin_dir();
        let rc = prepare().join("shrc");
        let setup = "hostname \"$1\" && mount --bind \"$2\" /usr/local/bin && cd \"$3\" && \
                     exec script -qfec 'sh -i' /dev/null";
        let mut cmd = Command::new("unshare");
        cmd.args(["--uts", "--mount", "--propagation", "private", "sh", "-c"])
            .arg(setup)
            .arg("sh")
            .arg(HOSTNAME)
            .arg(&bin)
            .arg(repo())
            .env_clear()
            .envs([
                ("PATH", PATH),
                ("HOME", "/root"),
                ("TERM", "dumb"),
                ("LANG", "C.UTF-8"),
                ("SHELL", "/bin/sh"),
                ("COLUMNS", "80"),
            ])
            .env("ENV", &rc)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in ["RUSTUP_HOME", "CARGO_HOME", "RUSTUP_TOOLCHAIN"] {
            if let Some(value) = std::env::var_os(var) {
                cmd.env(var, value);
            }
        }
        let mut child = cmd.spawn().expect("unshare");
        let stdin = child.stdin.take().unwrap();
        let out = Arc::new(Mutex::new((Vec::new(), Instant::now(), false)));
        for mut pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let out = Arc::clone(&out);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    let n = pipe.read(&mut buf).unwrap_or(0);
                    let mut out = out.lock().unwrap();
                    if n == 0 {
                        out.2 = true;
                        return;
                    }
                    out.0.extend_from_slice(&buf[..n]);
                    out.1 = Instant::now();
                }
            });
        }
        Session { child, stdin, out }
    }

    /// The transcript so far, with the terminal's CR LF made LF.
    fn transcript(&self) -> String {
        let out = self.out.lock().unwrap();
        String::from_utf8_lossy(&out.0).replace("\r\n", "\n")
    }

    /// Wait until the terminal shows `prompt` at the start of a line after
    /// `from`, and has been quiet since. Returns where the prompt starts.
    fn wait_for(&self, from: usize, prompt: &str) -> Result<usize, String> {
        let start = Instant::now();
        loop {
            let (text, quiet, eof) = {
                let out = self.out.lock().unwrap();
                let text = String::from_utf8_lossy(&out.0).replace("\r\n", "\n");
                (text, out.1.elapsed() >= QUIET, out.2)
            };
            let tail = &text[from.min(text.len())..];
            let at_line_start =
                tail.len() == prompt.len() || tail.ends_with(&format!("\n{prompt}"));
            if quiet && tail.ends_with(prompt) && at_line_start {
                return Ok(text.len() - prompt.len());
            }
            let other = if prompt == HOST_PROMPT {
                CHILD_PROMPT
            } else {
                HOST_PROMPT
            };
            if quiet && tail.ends_with(&format!("\n{other}")) {
                return Err(format!("expected the prompt {prompt:?}, got {other:?}"));
            }
            if eof {
                return Err("the session ended".into());
            }
            if start.elapsed() > STEP_TIMEOUT {
                return Err(format!("no prompt {prompt:?} after {STEP_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_line(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
        self.stdin.flush().unwrap();
    }

    fn finish(mut self) {
        self.type_line("exit");
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One typed line of a block and the output expected after it.
#[derive(Debug)]
struct Step {
    prompt: &'static str,
    input: String,
    expected: Vec<String>,
    /// Line number of the typed line in the Markdown file.
    line: usize,
}

/// A ```` ```console ```` block: where it is, and its steps.
#[derive(Debug)]
struct Block {
    /// Line numbers of its first and last content lines (1-based).
    first: usize,
    last: usize,
    /// The fence's indentation (a block in a list item), which every line
    /// of the block has too.
    indent: String,
    steps: Vec<Step>,
}

fn parse_blocks(md: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in md.lines().enumerate() {
        let number = i + 1;
        let fence = line.trim_start();
        match &mut current {
            None if fence == "```console" => {
                current = Some(Block {
                    first: number + 1,
                    last: number,
                    indent: line[..line.len() - fence.len()].to_string(),
                    steps: Vec::new(),
                })
            }
            None => {}
            Some(_) if fence == "```" => blocks.push(current.take().unwrap()),
            Some(block) => {
                block.last = number;
                let line = line.strip_prefix(block.indent.as_str()).unwrap_or(line);
                let prompt = [HOST_PROMPT, CHILD_PROMPT]
                    .into_iter()
                    .find(|p| line.starts_with(p) || line == p.trim_end());
                match prompt {
                    Some(prompt) => block.steps.push(Step {
                        prompt,
                        input: line.get(prompt.len()..).unwrap_or("").to_string(),
                        expected: Vec::new(),
                        line: number,
                    }),
                    None => match block.steps.last_mut() {
                        Some(step) => step.expected.push(line.to_string()),
                        None => panic!("line {number}: a console block starts with a prompt"),
                    },
                }
            }
        }
    }
    assert!(current.is_none(), "an unclosed console block");
    blocks
}

/// Replace the digits that follow `context` with `with`, and the blanks
/// before them (strace pads pids: `[pid  4712]`).
fn mask_after(line: &str, context: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(context) {
        let end = at + context.len();
        out.push_str(&rest[..end]);
        rest = &rest[end..];
        let number = rest.trim_start_matches(' ');
        let digits = number.len()
            - number
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        if digits > 0 {
            out.push_str(with);
            rest = &number[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// Replace runs of characters matching `is` that are at least `min` long
/// (after `prefix`) with `with`.
fn mask_runs(line: &str, prefix: &str, min: usize, is: fn(char) -> bool, with: &str) -> String {
    let mut out = String::new();
    let mut chars = line.char_indices().peekable();
    let bytes = line.as_bytes();
    while let Some((i, c)) = chars.next() {
        let starts_run = line[i..].starts_with(prefix)
            && (i == 0 || !(bytes[i - 1] as char).is_ascii_alphanumeric());
        if starts_run {
            let body = &line[i + prefix.len()..];
            let len = body.len() - body.trim_start_matches(is).len();
            if len >= min {
                out.push_str(with);
                for _ in 0..prefix.len() + len - 1 {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Mask what changes from run to run (see the module documentation).
fn mask(line: &str) -> String {
    let mut line = mask_runs(line, "0x", 8, |c| c.is_ascii_hexdigit(), "0xADDR");
    line = mask_runs(&line, "", 9, |c| c.is_ascii_digit(), "INODE");
    for context in [
        "launcher[",
        "child[",
        "pid ",
        "si_pid=",
        "kill(",
        "wait4(",
        "/proc/",
        "[pid ",
    ] {
        line = mask_after(&line, context, "PID");
    }
    if line.contains("clone(") || line.contains("wait4(") {
        line = mask_after(&line, ") = ", "PID");
    }
    line
}

/// Which stream a line belongs to: a process's trace, or the rest.
fn stream(line: &str) -> &'static str {
    if line.starts_with("launcher[") {
        "launcher"
    } else if line.starts_with("child[") {
        "child"
    } else {
        "output"
    }
}

/// Compare outputs stream by stream after masking; `None` when they agree.
fn differ(expected: &[String], actual: &[String]) -> Option<String> {
    let masked = |lines: &[String], s: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| stream(l) == s)
            .map(|l| mask(l))
            .collect()
    };
    let mut report = String::new();
    for s in ["launcher", "child", "output"] {
        let (e, a) = (masked(expected, s), masked(actual, s));
        if e != a {
            report.push_str(&format!("--- {s} lines differ:\n"));
            for i in 0..e.len().max(a.len()) {
                let el = e.get(i).map_or("(none)", String::as_str);
                let al = a.get(i).map_or("(none)", String::as_str);
                let mark = if el == al { " " } else { "!" };
                report.push_str(&format!("{mark} expected: {el}\n{mark} actual:   {al}\n"));
            }
        }
    }
    (!report.is_empty()).then_some(report)
}

/// Replay one block; returns the actual output of each step, or an error.
fn replay(block: &Block) -> Result<Vec<Vec<String>>, String> {
    let mut session = Session::start();
    let mut outputs = Vec::new();
    let first = block.steps[0].prompt;
    let result = (|| {
        session.wait_for(0, first)?;
        for (i, step) in block.steps.iter().enumerate() {
            let from = session.transcript().len();
            session.type_line(&step.input);
            let next = block.steps.get(i + 1).map_or(HOST_PROMPT, |s| s.prompt);
            let end = session
                .wait_for(from, next)
                .map_err(|e| format!("after line {}: {e}", step.line))?;
            let text = session.transcript();
            let mut lines: Vec<String> = text[from..end].lines().map(str::to_string).collect();
            // The terminal's echo of what was typed.
            if lines.first().map(String::as_str) == Some(step.input.as_str()) {
                lines.remove(0);
            }
            outputs.push(lines);
        }
        Ok(())
    })();
    let transcript = session.transcript();
    session.finish();
    result
        .map(|()| outputs)
        .map_err(|e: String| format!("{e}\n--- transcript:\n{transcript}"))
}

/// Replay every block of one Markdown file, compare, and overwrite the
/// outputs when asked to.
fn check_file(relative: &str) {
    if !can_run() {
        return;
    }
    let path = repo().join(relative);
    let md = std::fs::read_to_string(&path).unwrap();
    let overwrite = std::env::var_os("NSCLONE_DOCS").is_some_and(|v| v == "overwrite");
    let mut failures = Vec::new();
    let mut replaced: Vec<(usize, usize, Vec<String>)> = Vec::new();
    for block in parse_blocks(&md) {
        let outputs = match replay(&block) {
            Ok(outputs) => outputs,
            Err(e) => {
                failures.push(format!("{relative}:{}: {e}", block.first));
                continue;
            }
        };
        let mut text = Vec::new();
        for (step, actual) in block.steps.iter().zip(&outputs) {
            text.push(
                format!("{}{}", step.prompt, step.input)
                    .trim_end()
                    .to_string(),
            );
            text.extend(actual.iter().cloned());
            if let Some(report) = differ(&step.expected, actual) {
                failures.push(format!(
                    "{relative}:{}: {}{}\n{report}",
                    step.line, step.prompt, step.input
                ));
            }
        }
        let text = text
            .into_iter()
            .map(|l| format!("{}{l}", block.indent).trim_end().to_string())
            .collect();
        replaced.push((block.first, block.last, text));
    }
    if overwrite {
        let mut lines: Vec<String> = md.lines().map(str::to_string).collect();
        for (first, last, text) in replaced.into_iter().rev() {
            lines.splice(first - 1..last, text);
        }
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        return;
    }
    assert!(
        failures.is_empty(),
        "the documentation disagrees with the program \
         (NSCLONE_DOCS=overwrite rewrites the outputs):\n\n{}",
        failures.join("\n")
    );
}

/// Every Markdown file the docs are made of.
fn markdown_files() -> Vec<String> {
    let mut files = Vec::new();
    if repo().join("README.md").exists() {
        files.push("README.md".to_string());
    }
    let mut dirs = vec![repo().join("docs")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                let relative = path.strip_prefix(repo()).unwrap();
                files.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_console_block_is_replayed() {
    let files = markdown_files();
    assert!(files.iter().any(|f| f.starts_with("docs/")), "{files:?}");
    // One thread per file: the sessions are independent.
    let handles: Vec<_> = files
        .into_iter()
        .map(|file| {
            std::thread::spawn(move || std::panic::catch_unwind(|| check_file(&file)).err())
        })
        .collect();
    let failed: Vec<String> = handles
        .into_iter()
        .filter_map(|h| h.join().unwrap())
        .map(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "a panic".to_string())
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// Links of the form `](../src/FILE#LA-LB)` followed by a rust block.
#[test]
fn quoted_source_is_the_source() {
    let mut failures = Vec::new();
    for relative in markdown_files() {
        let path = repo().join(&relative);
        let md = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = md.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(target) = excerpt_link(line) else {
                continue;
            };
            let Some(open) = lines[i + 1..].iter().position(|l| !l.trim().is_empty()) else {
                continue;
            };
            let open = i + 1 + open;
            if lines[open].trim() != "```rust" {
                continue;
            }
            let close = open
                + 1
                + lines[open + 1..]
                    .iter()
                    .position(|l| l.trim() == "```")
                    .unwrap();
            let quoted = &lines[open + 1..close];
            let (file, range) = target;
            let source_path = path.parent().unwrap().join(&file);
            let source = std::fs::read_to_string(&source_path)
                .unwrap_or_else(|e| panic!("{relative}:{}: {file}: {e}", i + 1));
            let source: Vec<&str> = source.lines().collect();
            let (a, b) = range;
            let actual = source.get(a - 1..b.min(source.len())).unwrap_or(&[]);
            if actual != quoted {
                let moved = source
                    .windows(quoted.len())
                    .position(|w| w == quoted)
                    .map_or("it is no longer in the file".to_string(), |at| {
                        format!("it is now at #L{}-L{}", at + 1, at + quoted.len())
                    });
                failures.push(format!(
                    "{relative}:{}: the excerpt is not lines {a}-{b} of {file}: {moved}",
                    i + 1
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `(FILE, (A, B))` from a line holding `](PATH#LA-LB)` or `](PATH#LA)`,
/// where PATH points into src/.
fn excerpt_link(line: &str) -> Option<(String, (usize, usize))> {
    let start = line.find("](")? + 2;
    let end = start + line[start..].find(')')?;
    let (file, anchor) = line[start..end].split_once("#L")?;
    if !file.contains("src/") {
        return None;
    }
    let (a, b) = match anchor.split_once("-L") {
        Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
        None => (anchor.parse().ok()?, anchor.parse().ok()?),
    };
    Some((file.to_string(), (a, b)))
}

#[test]
fn masking_keeps_what_matters() {
    assert_eq!(
        mask("launcher[4711] clone(child_stack=0x7f3c2a1f1000, flags=CLONE_NEWUTS|SIGCHLD) = 4712"),
        "launcher[PID] clone(child_stack=0xADDR, flags=CLONE_NEWUTS|SIGCHLD) = PID"
    );
    assert_eq!(
        mask(
            "child[4712] newfstatat(AT_FDCWD, \"/proc/self/ns/uts\", {st_ino=4026532177, ...}, 0) = 0"
        ),
        "child[PID] newfstatat(AT_FDCWD, \"/proc/self/ns/uts\", {st_ino=INODE, ...}, 0) = 0"
    );
    assert_eq!(
        mask("launcher[9] mprotect(0x7f3c2a1e0000, 4096, PROT_NONE) = 0"),
        "launcher[PID] mprotect(0xADDR, 4096, PROT_NONE) = 0"
    );
    assert_eq!(
        mask("status 0x0300: exited with 3"),
        "status 0x0300: exited with 3"
    );
    assert_eq!(
        mask("nsclone: running [\"sh\"] as pid 123"),
        "nsclone: running [\"sh\"] as pid PID"
    );
    assert_eq!(mask("uts:[4026531838]"), "uts:[INODE]");
    assert_eq!(mask("[pid  4712] exit"), mask("[pid 14712] exit"));
}
