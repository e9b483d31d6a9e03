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
//! The session runs as root in fresh UTS, IPC and mount namespaces
//! (util-linux `unshare`), so the host is untouched: the hostname there is
//! [`HOSTNAME`], System V IPC starts empty, and `/usr/local/bin` is a
//! scratch directory holding nsclone (built with `--release`), cargo and
//! rustc. The environment is fixed (below), so the PATH search and the
//! variable count that `--trace` shows are the same on every machine; the
//! working directory is the repository.
//!
//! # How output is compared
//! - Numbers that change from run to run are masked on both sides: pids
//!   (after `launcher[`, `child[`, `pid `, `si_pid=`, `kill(`, `wait4(`,
//!   `pidfd_open(`, `/proc/`, `NSpid:`, thread ids after `task/`, and
//!   clone's and wait4's results), addresses and keys (`0x` and 8 or
//!   more hex digits), inodes (9 digits or more, or
//!   after `pipe:[`), device numbers (`device 0:4`, `makedev(0, 0x4)`: the
//!   nsfs device is numbered at boot) and decimals such as durations
//!   (`0.02s`, `/proc/uptime`). Within a block, each distinct value becomes its own
//!   placeholder, so what is equal must stay equal and what differs must
//!   stay different.
//! - In the docs, `[..]` in a line matches any text, and a line `...` any
//!   number of lines; trailing blanks are ignored.
//! - The launcher and the child run at the same time, so their trace lines
//!   interleave differently from run to run: lines are compared in order
//!   within each stream (the launcher's trace, the child's trace, everything
//!   else), not across streams.
//!
//! # Updating the docs
//! `NSCLONE_DOCS=overwrite cargo test --test docs` rewrites the outputs
//! that disagree with what the program printed (then review the diff). An
//! output that agrees is left as it is. In one that is rewritten, each
//! masked value is written as the number the docs had at the same place,
//! so the numbers the docs keep consistent from block to block (the host's
//! namespaces, for one: two live namespaces never share an inode) survive.
//! A block that cannot be replayed to its end (a prompt that never comes)
//! has no output to write, and fails in either mode.
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

mod common;
use common::{Host, only_standard_descriptors, privileged, release_binary, repo, skip};

/// The host's hostname inside the doc sessions.
const HOSTNAME: &str = "vm";

/// PATH in the doc sessions: Debian's default for root.
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How long one typed line may run before its prompt comes back.
const STEP_TIMEOUT: Duration = Duration::from_secs(120);

/// How long the terminal must stay quiet before a prompt counts as one.
const QUIET: Duration = Duration::from_millis(150);

const HOST_PROMPT: &str = "$ ";
const CHILD_PROMPT: &str = "# ";

/// Whether the doc sessions can run here: root, and the tools the docs
/// use. When they cannot, say so loudly; under CI, fail.
fn can_run(test: &str) -> bool {
    let missing = TOOLS
        .into_iter()
        .filter(|tool| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect::<Vec<_>>();
    privileged(test) && (missing.is_empty() || skip(test, &format!("missing tools: {missing:?}")))
}

/// The programs the sessions and the docs' commands need (util-linux,
/// bsdutils, strace, make, iproute2, procps, psmisc, busybox-static for
/// `make container`; gcc and binutils for the programs docs/start.md and
/// docs/life.md build and take apart).
const TOOLS: [&str; 16] = [
    "unshare", "nsenter", "lsns", "script", "setpriv", "ipcmk", "findmnt", "strace", "make", "ip",
    "ps", "pstree", "busybox", "cc", "readelf", "objdump",
];

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
    std::fs::copy(release_binary(), bin.join("nsclone")).unwrap();
    let toolchain = Path::new(env!("CARGO")).parent().unwrap();
    for tool in ["cargo", "rustc"] {
        std::os::unix::fs::symlink(toolchain.join(tool), bin.join(tool)).unwrap();
    }
    bin
}

/// rustup's variables, which the sessions' cargo may need: as this test
/// got them, or rustup's defaults. All three are always set, so that the
/// count of variables `--trace` shows is the same whether the test runs
/// under rustup's cargo (which sets them), a distribution's cargo, or on
/// its own (which do not).
fn toolchain_env() -> [(&'static str, std::ffi::OsString); 3] {
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()));
    let or = |var: &str, default: PathBuf| std::env::var_os(var).unwrap_or(default.into());
    // The toolchain's name, from rustup's layout `.../toolchains/NAME/bin/cargo`.
    let toolchain = Path::new(env!("CARGO"))
        .ancestors()
        .nth(2)
        .and_then(Path::file_name)
        .unwrap_or("default".as_ref());
    [
        ("RUSTUP_HOME", or("RUSTUP_HOME", home.join(".rustup"))),
        ("CARGO_HOME", or("CARGO_HOME", home.join(".cargo"))),
        ("RUSTUP_TOOLCHAIN", or("RUSTUP_TOOLCHAIN", toolchain.into())),
    ]
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
        cmd.args([
            "--uts",
            "--ipc",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
        ])
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
        for (var, value) in toolchain_env() {
            cmd.env(var, value);
        }
        only_standard_descriptors(&mut cmd);
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

/// Masks the lines of one stream of one block (one side): each distinct
/// pid, address or inode becomes a placeholder numbered in order of first
/// appearance, so that what is equal stays equal (the pid clone returns and
/// the pid in the child's lines; the child's `uts` inode in the table and in
/// `readlink` inside).
#[derive(Default)]
struct Masker {
    seen: Vec<(&'static str, String)>,
}

impl Masker {
    /// The placeholder of `value`, of kind `kind` (`PID`, `INODE`, `0x`).
    fn name(&mut self, kind: &'static str, value: &str) -> String {
        let same_kind = |k: &&'static str| *k == kind;
        let n = match self
            .seen
            .iter()
            .filter(|(k, _)| same_kind(k))
            .position(|(_, v)| v == value)
        {
            Some(n) => n,
            None => {
                self.seen.push((kind, value.to_string()));
                self.seen.iter().filter(|(k, _)| same_kind(k)).count() - 1
            }
        };
        format!("{kind}{}", n + 1)
    }

    /// Mask what changes from run to run (see the module documentation).
    fn mask(&mut self, line: &str) -> String {
        rewrite(line, true, &mut |kind, v| self.name(kind, v))
    }

    /// The values of kind `kind` seen, in order of first appearance.
    fn values(&self, kind: &str) -> Vec<&str> {
        let same_kind = |(k, _): &&(&str, String)| *k == kind;
        self.seen
            .iter()
            .filter(same_kind)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The words after which a number is a pid (or a thread id, after `task/`).
const PID_CONTEXTS: [&str; 11] = [
    "launcher[",
    "child[",
    "pid ",
    "si_pid=",
    "kill(",
    "wait4(",
    "pidfd_open(",
    "/proc/",
    "[pid ",
    "NSpid:\t",
    "task/",
];

/// Find in `line` what changes from run to run (see the module
/// documentation) and replace each value with what `with` makes of it and
/// its kind (`PID`, `INODE`, `0x`). To `mask`, numbers such as `0.02`
/// become `N.N` too, and the blanks that pad a pid are dropped.
fn rewrite(line: &str, mask: bool, with: &mut dyn FnMut(&'static str, &str) -> String) -> String {
    let mut line = line.trim_end().to_string();
    line = mask_runs(&line, "0x", 8, |c| c.is_ascii_hexdigit(), &mut |v| {
        with("0x", v)
    });
    line = mask_runs(&line, "", 9, |c| c.is_ascii_digit(), &mut |v| {
        with("INODE", v)
    });
    let digit = |c: char| c.is_ascii_digit();
    line = mask_after(&line, "pipe:[", digit, mask, &mut |v| with("INODE", v));
    let device = |c: char| c.is_ascii_digit() || c == ':';
    line = mask_after(&line, "device ", device, false, &mut |v| with("DEV", v));
    let makedev = |c: char| c.is_ascii_hexdigit() || ", x".contains(c);
    line = mask_after(&line, "makedev(", makedev, false, &mut |v| with("DEV", v));
    if mask {
        line = mask_decimals(&line);
    }
    for context in PID_CONTEXTS {
        line = mask_after(&line, context, digit, mask, &mut |v| with("PID", v));
    }
    if line.contains("clone(") || line.contains("wait4(") || line.contains("getpid(") {
        line = mask_after(&line, ") = ", digit, mask, &mut |v| with("PID", v));
    }
    line = mask_after(&line, "clone resumed> = ", digit, mask, &mut |v| {
        with("PID", v)
    });
    // A clock's reading (a refused offset names it): the uptime of the day.
    if mask {
        line = mask_after(&line, "clock reads ", digit, false, &mut |_| {
            "N".to_string()
        });
    }
    line
}

/// How the numbers of a new output are written into the docs: the value
/// that stood in the docs at the same place (same kind, same rank of first
/// appearance, same stream) replaces the value printed, so that numbers the
/// docs keep consistent (a namespace's inode across blocks, the pids of a
/// block) stay as they were. A value without a counterpart is kept, unless
/// the docs already use it for something else; then it is moved to a free
/// one.
struct Renumber {
    map: Vec<((&'static str, String), String)>,
}

impl Renumber {
    fn new(maskers: &Maskers) -> Renumber {
        let mut map: Vec<((&'static str, String), String)> = Vec::new();
        let mut taken: Vec<(&'static str, String)> = Vec::new();
        for kind in ["PID", "INODE", "0x", "DEV"] {
            for (expected, actual) in maskers {
                taken.extend(expected.values(kind).iter().map(|v| (kind, v.to_string())));
                for (doc, printed) in expected.values(kind).iter().zip(actual.values(kind)) {
                    let key = (kind, printed.to_string());
                    if !map.iter().any(|(k, _)| *k == key)
                        && !map.iter().any(|((k, _), v)| *k == kind && v == doc)
                    {
                        map.push((key, doc.to_string()));
                    }
                }
            }
        }
        for (_, actual) in maskers {
            for (kind, printed) in &actual.seen {
                let key = (*kind, printed.clone());
                if map.iter().any(|(k, _)| *k == key) {
                    continue;
                }
                let used = |v: &str| {
                    taken.iter().any(|(k, t)| k == kind && t == v)
                        || map.iter().any(|((k, _), t)| k == kind && t == v)
                };
                let mut value = printed.clone();
                while used(&value) {
                    value = next_value(&value);
                }
                map.push((key, value));
            }
        }
        Renumber { map }
    }

    /// `line` with each value replaced as the map says.
    fn apply(&self, line: &str) -> String {
        // Values are first replaced by private-use characters, so that a
        // number written in by one step is not taken for a printed one by
        // the next.
        let mut values = Vec::new();
        let marked = rewrite(line, false, &mut |kind, v| {
            let key = (kind, v.to_string());
            let value = self
                .map
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(v.to_string(), |(_, doc)| doc.clone());
            values.push(value);
            char::from_u32(0xE000 + values.len() as u32 - 1)
                .unwrap()
                .to_string()
        });
        marked
            .chars()
            .map(|c| match c as u32 {
                n @ 0xE000..=0xF8FF if ((n - 0xE000) as usize) < values.len() => {
                    values[(n - 0xE000) as usize].clone()
                }
                _ => c.to_string(),
            })
            .collect()
    }
}

/// The next value after `v`: the next number, or the next page for an
/// address.
fn next_value(v: &str) -> String {
    match v.strip_prefix("0x") {
        Some(hex) => {
            let n = u64::from_str_radix(hex, 16).unwrap_or(0);
            format!("0x{:0width$x}", n.wrapping_add(0x1000), width = hex.len())
        }
        None => (v.parse::<u64>().unwrap_or(0) + 1).to_string(),
    }
}

/// Replace the run of characters matching `is` that follows `context`
/// (digits, or a device number: `0:4`), after any blanks, with what `with`
/// makes of it; with `drop_blanks`, drop those blanks (strace pads pids:
/// `[pid  4712]`).
fn mask_after(
    line: &str,
    context: &str,
    is: fn(char) -> bool,
    drop_blanks: bool,
    with: &mut dyn FnMut(&str) -> String,
) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(context) {
        let end = at + context.len();
        out.push_str(&rest[..end]);
        rest = &rest[end..];
        let run = rest.trim_start_matches(' ');
        let len = run.len() - run.trim_start_matches(is).len();
        if len > 0 {
            if !drop_blanks {
                out.push_str(&rest[..rest.len() - run.len()]);
            }
            out.push_str(&with(&run[..len]));
            rest = &run[len..];
        }
    }
    out.push_str(rest);
    out
}

/// Replace runs of characters matching `is`, at least `min` long after
/// `prefix` and starting a word, with what `with` makes of them.
fn mask_runs(
    line: &str,
    prefix: &str,
    min: usize,
    is: fn(char) -> bool,
    with: &mut dyn FnMut(&str) -> String,
) -> String {
    let mut out = String::new();
    let mut i = 0;
    let bytes = line.as_bytes();
    while i < line.len() {
        let starts_run = line[i..].starts_with(prefix)
            && (i == 0 || !(bytes[i - 1] as char).is_ascii_alphanumeric());
        if starts_run {
            let body = &line[i + prefix.len()..];
            let len = body.len() - body.trim_start_matches(is).len();
            if len >= min {
                out.push_str(&with(&line[i..i + prefix.len() + len]));
                i += prefix.len() + len;
                continue;
            }
        }
        let c = line[i..].chars().next().unwrap();
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Replace numbers with a decimal point (`0.02`, `1036.04`) with `N.N`.
fn mask_decimals(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let int = i > start && (start == 0 || !chars[start - 1].is_ascii_alphanumeric());
        if int && i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit() {
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            out.push_str("N.N");
            continue;
        }
        out.extend(&chars[start..i]);
        if i < chars.len() {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Whether `actual` matches `expected`, where `[..]` matches any text.
fn line_matches(expected: &str, actual: &str) -> bool {
    let mut parts = expected.split("[..]");
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Whether the lines `actual` match `expected`, where a line `...` matches
/// any number of lines.
fn lines_match(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual.split_first().is_some_and(|(a, actual_rest)| {
            line_matches(first, a) && lines_match(rest, actual_rest)
        }),
    }
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

/// strace's output for several processes depends on scheduling, not on
/// the program: a `[pid N]` prefix appears only once strace has seen the
/// second process, a call another process interrupts is split into
/// `<unfinished ...>` and `<... NAME resumed>`, and the result column is
/// padded after whatever prefix there was. Put each call back on one line,
/// at the place it started, without prefix or padding, so that the docs
/// compare what the processes did.
fn strace_canonical(lines: &[String]) -> Vec<String> {
    fn strip_pid(line: &str) -> &str {
        line.strip_prefix("[pid ")
            .and_then(|rest| rest.split_once("] "))
            .filter(|(pid, _)| pid.trim().bytes().all(|b| b.is_ascii_digit()))
            .map_or(line, |(_, call)| call)
    }
    fn unpad(line: &str) -> String {
        match line.rfind(" = ") {
            Some(at) => format!("{} = {}", line[..at].trim_end(), &line[at + 3..]),
            None => line.to_string(),
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut open: Vec<(String, usize)> = Vec::new(); // (call name, index in out)
    for line in lines.iter().map(|l| strip_pid(l)) {
        if let Some(start) = line.strip_suffix(" <unfinished ...>") {
            let name = start.split('(').next().unwrap_or_default().to_string();
            open.push((name, out.len()));
            out.push(start.to_string());
        } else if let Some(rest) = line.strip_prefix("<... ") {
            let (name, rest) = rest.split_once(" resumed>").unwrap_or((rest, ""));
            match open.iter().position(|(n, _)| n == name) {
                Some(i) => {
                    let (_, at) = open.remove(i);
                    out[at] = unpad(&format!("{}{rest}", out[at]));
                }
                None => out.push(unpad(line)),
            }
        } else if line.split('(').next().is_some_and(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        }) {
            out.push(unpad(line));
        } else {
            out.push(line.to_string());
        }
    }
    out
}

/// The maskers of one block: for each stream, one per side.
type Maskers = [(Masker, Masker); 3];

const STREAMS: [&str; 3] = ["launcher", "child", "output"];

/// Compare outputs stream by stream after masking; `None` when they agree.
fn differ(expected: &[String], actual: &[String], maskers: &mut Maskers) -> Option<String> {
    let mut report = String::new();
    for (s, (mask_e, mask_a)) in STREAMS.into_iter().zip(maskers.iter_mut()) {
        let masked = |lines: &[String], masker: &mut Masker| -> Vec<String> {
            let lines: Vec<String> = lines.iter().filter(|l| stream(l) == s).cloned().collect();
            strace_canonical(&lines)
                .iter()
                .map(|l| masker.mask(l))
                .collect()
        };
        let (e, a) = (masked(expected, mask_e), masked(actual, mask_a));
        if !lines_match(&e, &a) {
            report.push_str(&format!("--- {s} lines differ:\n"));
            for i in 0..e.len().max(a.len()) {
                let el = e.get(i).map_or("(none)", String::as_str);
                let al = a.get(i).map_or("(none)", String::as_str);
                let mark = if line_matches(el, al) { " " } else { "!" };
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
    let path = repo().join(relative);
    let md = std::fs::read_to_string(&path).unwrap();
    let overwrite = std::env::var_os("NSCLONE_DOCS").is_some_and(|v| v == "overwrite");
    let mut failures = Vec::new();
    // Blocks that could not be replayed to the end: overwriting has no
    // output to write for them, so they fail in either mode.
    let mut broken = Vec::new();
    let mut replaced: Vec<(usize, usize, Vec<String>)> = Vec::new();
    for block in parse_blocks(&md) {
        let outputs = match replay(&block) {
            Ok(outputs) => outputs,
            Err(e) => {
                broken.push(format!("{relative}:{}: {e}", block.first));
                continue;
            }
        };
        let mut maskers = Maskers::default();
        let mut agreed = Vec::new();
        for (step, actual) in block.steps.iter().zip(&outputs) {
            match differ(&step.expected, actual, &mut maskers) {
                None => agreed.push(true),
                Some(report) => {
                    agreed.push(false);
                    failures.push(format!(
                        "{relative}:{}: {}{}\n{report}",
                        step.line, step.prompt, step.input
                    ));
                }
            }
        }
        // Overwriting keeps an output that agrees as it is (its numbers and
        // wildcards), and writes a new one with the docs' numbers.
        let renumber = Renumber::new(&maskers);
        let mut text = Vec::new();
        for ((step, actual), agreed) in block.steps.iter().zip(&outputs).zip(agreed) {
            text.push(
                format!("{}{}", step.prompt, step.input)
                    .trim_end()
                    .to_string(),
            );
            if agreed {
                text.extend(step.expected.iter().cloned());
            } else {
                text.extend(actual.iter().map(|l| renumber.apply(l)));
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
        failures.clear();
    }
    failures.extend(broken);
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
    if !can_run("every_console_block_is_replayed") {
        return;
    }
    let _host = Host::guard();
    let files = markdown_files();
    assert!(files.iter().any(|f| f.starts_with("docs/")), "{files:?}");
    // One file after the other: sessions that run cargo at the same time
    // would print "Blocking waiting for file lock".
    let failed: Vec<String> = files
        .into_iter()
        .filter_map(|file| std::panic::catch_unwind(|| check_file(&file)).err())
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
    let overwrite = std::env::var_os("NSCLONE_DOCS").is_some_and(|v| v == "overwrite");
    let mut failures = Vec::new();
    for relative in markdown_files() {
        let path = repo().join(&relative);
        let md = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = md.lines().collect();
        let mut moved_links: Vec<(usize, String, String)> = Vec::new();
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
                let at = source.windows(quoted.len()).position(|w| w == quoted);
                let moved = at.map_or("it is no longer in the file".to_string(), |at| {
                    let anchor = format!("#L{}-L{}", at + 1, at + quoted.len());
                    moved_links.push((i, format!("#L{a}-L{b}"), anchor.clone()));
                    format!("it is now at {anchor}")
                });
                failures.push(format!(
                    "{relative}:{}: the excerpt is not lines {a}-{b} of {file}: {moved} \
                     (NSCLONE_DOCS=overwrite updates the link)",
                    i + 1
                ));
            }
        }
        if overwrite && !moved_links.is_empty() {
            let mut lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            for (i, old, new) in moved_links {
                lines[i] = lines[i].replace(&old, &new);
            }
            std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        }
    }
    if !overwrite {
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
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

fn mask(line: &str) -> String {
    Masker::default().mask(line)
}

/// Lines as the parser and the comparison hold them.
fn lines(text: &[&str]) -> Vec<String> {
    text.iter().map(|l| l.to_string()).collect()
}

#[test]
fn masking_keeps_what_matters() {
    assert_eq!(
        mask("launcher[4711] clone(child_stack=0x7f3c2a1f1000, flags=CLONE_NEWUTS|SIGCHLD) = 4712"),
        "launcher[PID1] clone(child_stack=0x1, flags=CLONE_NEWUTS|SIGCHLD) = PID2"
    );
    assert_eq!(
        mask(
            "child[4712] newfstatat(AT_FDCWD, \"/proc/self/ns/uts\", {st_ino=4026532177, ...}, 0) = 0"
        ),
        "child[PID1] newfstatat(AT_FDCWD, \"/proc/self/ns/uts\", {st_ino=INODE1, ...}, 0) = 0"
    );
    assert_eq!(
        mask("launcher[9] mprotect(0x7f3c2a1e0000, 4096, PROT_NONE) = 0"),
        "launcher[PID1] mprotect(0x1, 4096, PROT_NONE) = 0"
    );
    assert_eq!(
        mask("status 0x0300: exited with 3"),
        "status 0x0300: exited with 3"
    );
    assert_eq!(
        mask("running [\"sh\"] as pid 123"),
        "running [\"sh\"] as pid PID1"
    );
    assert_eq!(mask("uts:[4026531838]"), "uts:[INODE1]");
    assert_eq!(mask("[pid  4712] exit"), mask("[pid 14712] exit"));
    assert_eq!(
        mask("write(6<pipe:[961709]>, \"\\1\", 1) = 1"),
        "write(6<pipe:[INODE1]>, \"\\1\", 1) = 1"
    );
    assert_eq!(mask("    Finished in 0.02s"), "    Finished in N.Ns");
    assert_eq!(mask("1036.04 1471.98"), "N.N N.N");
    assert_eq!(
        mask("nsclone: --boottime -9: the boot-time clock reads 481 s; an offset"),
        "nsclone: --boottime -9: the boot-time clock reads N s; an offset"
    );
    assert_eq!(mask("getpid() = 4711"), "getpid() = PID1");
    assert_eq!(mask("v1.2"), "v1.2");
    assert_eq!(mask("NSpid:\t4712\t1"), "NSpid:\tPID1\t1");
    assert_eq!(mask("pidfd_open(4712, 0) = 3"), "pidfd_open(PID1, 0) = 3");
    assert_eq!(
        mask("/proc/4711/task/4711 /proc/4711/task/4712"),
        "/proc/PID1/task/PID1 /proc/PID1/task/PID2"
    );
}

#[test]
fn device_numbers_are_masked() {
    assert_eq!(
        mask("all of these are on device 0:4 (nsfs)"),
        "all of these are on device DEV1 (nsfs)"
    );
    assert_eq!(
        mask("fstat(4, {st_dev=makedev(0, 0x4), st_ino=4026531835, ...}) = 0"),
        "fstat(4, {st_dev=makedev(DEV1), st_ino=INODE1, ...}) = 0"
    );
    assert_eq!(mask("device 0:3"), mask("device 0:4"));
}

#[test]
fn equal_values_stay_equal_and_different_ones_different() {
    let mut m = Masker::default();
    assert_eq!(
        m.mask("uts:[4026531838] uts:[4026532177]"),
        "uts:[INODE1] uts:[INODE2]"
    );
    assert_eq!(m.mask("uts:[4026532177]"), "uts:[INODE2]");
    assert_eq!(m.mask("pid 77 pid 4026532177"), "pid PID1 pid INODE2");
}

#[test]
fn overwriting_keeps_the_numbers_of_the_docs() {
    let expected = lines(&[
        "launcher[100] clone(child_stack=0x7f0000001000, flags=CLONE_NEWUTS|SIGCHLD) = 101",
        "uts:[4026532180]",
    ]);
    let actual = lines(&[
        "launcher[555] clone(child_stack=0x7f1234567000, flags=CLONE_NEWUTS|SIGCHLD) = 556",
        "uts:[4026532181] ipc:[4026532180]",
        "[pid   556] exit, after 0.25s",
    ]);
    let mut maskers = Maskers::default();
    assert!(differ(&expected, &actual, &mut maskers).is_some());
    let renumber = Renumber::new(&maskers);
    let written: Vec<String> = actual.iter().map(|l| renumber.apply(l)).collect();
    assert_eq!(
        written,
        lines(&[
            "launcher[100] clone(child_stack=0x7f0000001000, flags=CLONE_NEWUTS|SIGCHLD) = 101",
            // The new inode took the number the docs gave the old one: moved.
            "uts:[4026532180] ipc:[4026532181]",
            "[pid   101] exit, after 0.25s",
        ])
    );
    // What is written agrees with what was printed.
    let mut maskers = Maskers::default();
    assert!(differ(&written, &actual, &mut maskers).is_none());
}

#[test]
fn strace_lines_are_compared_whatever_the_scheduling() {
    let calm = lines(&[
        "clone(child_stack=0x1, flags=SIGCHLD) = 7",
        "[pid     7] mount(\"proc\", \"/proc\", \"proc\", 0, NULL) = 0",
        "write(4, \"x\", 1)     = 1",
    ]);
    let busy = lines(&[
        "[pid     6] clone(child_stack=0x1, flags=SIGCHLD <unfinished ...>",
        "[pid     7] mount(\"proc\", \"/proc\", \"proc\", 0, NULL) = 0",
        "[pid     6] <... clone resumed>) = 7",
        "[pid     6] write(4, \"x\", 1) = 1",
    ]);
    assert_eq!(strace_canonical(&calm), strace_canonical(&busy));
    assert_eq!(
        strace_canonical(&busy)[0],
        "clone(child_stack=0x1, flags=SIGCHLD) = 7"
    );
    let other = lines(&["nsclone: running [\"sh\"]   = as typed"]);
    assert_eq!(
        strace_canonical(&other),
        other,
        "only strace's lines change"
    );
}

#[test]
fn wildcards() {
    assert!(line_matches("4:memory:/[..]", "4:memory:/process_api/7dc2"));
    assert!(line_matches("a[..]b[..]c", "a-x-b-y-c"));
    assert!(!line_matches("a[..]b", "a-x-c"));
    assert!(line_matches("exact", "exact") && !line_matches("exact", "exact!"));
    assert!(lines_match(
        &lines(&["a", "...", "z"]),
        &lines(&["a", "b", "c", "z"])
    ));
    assert!(lines_match(&lines(&["a", "...", "z"]), &lines(&["a", "z"])));
    assert!(!lines_match(
        &lines(&["a", "...", "z"]),
        &lines(&["a", "b"])
    ));
}

/// The Chinese docs are kept in step with the English ones: every chapter
/// in docs/ has its translation in docs/zh-CN/ (and nothing else is
/// there), with the same commands, in the same order, and the same source
/// excerpts.
#[test]
fn the_chinese_docs_keep_in_step() {
    let read = |relative: &str| std::fs::read_to_string(repo().join(relative)).unwrap();
    let typed = |md: &str| -> Vec<String> {
        parse_blocks(md)
            .iter()
            .flat_map(|b| &b.steps)
            .map(|s| format!("{}{}", s.prompt, s.input))
            .collect()
    };
    let excerpts = |md: &str| -> Vec<(String, (usize, usize))> {
        md.lines()
            .filter_map(excerpt_link)
            .map(|(file, range)| (file.trim_start_matches("../").to_string(), range))
            .collect()
    };
    let chapters = |dir: &str| -> Vec<String> {
        markdown_files()
            .iter()
            .filter_map(|f| f.strip_prefix(dir)?.strip_prefix('/'))
            .filter(|name| !name.contains('/'))
            .map(str::to_string)
            .collect()
    };
    let names = chapters("docs");
    assert!(names.contains(&"tutorial.md".to_string()), "{names:?}");
    assert_eq!(names, chapters("docs/zh-CN"), "docs/ and docs/zh-CN/");
    for name in &names {
        let (en, zh) = (
            read(&format!("docs/{name}")),
            read(&format!("docs/zh-CN/{name}")),
        );
        assert_eq!(typed(&en), typed(&zh), "{name}: the commands differ");
        assert_eq!(
            excerpts(&en),
            excerpts(&zh),
            "{name}: the source excerpts differ"
        );
    }
}
