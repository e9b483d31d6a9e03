//! How fast nsclone starts a command, and why: `make bench`, or
//! `cargo bench --bench launch -- [--full] [--out DIR]` (`make bench-full`).
//!
//! Five measurements, each interleaved (every round runs every variant once,
//! in a new random order) so that ratios can be taken round by round:
//!
//! 1. the whole process, from outside: `/bin/true` alone; util-linux
//!    `unshare -u` and `unshare -u --fork`; `nsclone -q`, fork and vfork
//!    style; the article's approach, which re-executes `/proc/self/exe`
//!    before the command (this program plays it, see [`reexec`]); and a
//!    minimal C launcher, `clone_launcher.c`, compiled here with `cc`;
//! 2. inside one process, per spawn of `/bin/true`: `std::process::Command`
//!    (glibc's posix_spawn, which clones with `CLONE_VM|CLONE_VFORK`), and
//!    nsclone's library in fork and in vfork style;
//! 3. the cost of each namespace type, with raw clone flags;
//! 4. the cost of a spawn against the memory the parent has touched;
//! 5. the launcher's own peak resident memory while the command runs.
//!
//! It prints Markdown tables and writes them, with two SVG charts, to
//! `target/bench-results/` (quick mode, the default: well under a minute)
//! or `results/` (`--full`: ten times the rounds, what the README shows).
//! It needs root, for the namespaces. It measures and never fails on a
//! figure: the goals table at the end says which goals hold.

mod stats;
mod svg;

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{self, Stdio};
use std::time::{Duration, Instant};

use nsclone::clone::clone;
use nsclone::stack::Stack;
use nsclone::{sys, wait};

use stats::{Table, interleave, median, micros, paired_difference, paired_ratio, spread, time};

/// How many rounds each measurement runs; `--full` multiplies them.
struct Rounds {
    whole: usize,
    in_process: usize,
    namespaces: usize,
    /// Per memory size: posix_spawn and vfork style, which stay cheap.
    memory_flat: usize,
    /// Per memory size: fork style, up to 0.1 s a spawn at 2 GiB.
    memory_fork: usize,
    /// Passes through the memory sizes.
    memory_passes: usize,
    rss: usize,
}

const QUICK: Rounds = Rounds {
    whole: 100,
    in_process: 200,
    namespaces: 100,
    memory_flat: 50,
    memory_fork: 10,
    memory_passes: 2,
    rss: 3,
};

const FULL: Rounds = Rounds {
    whole: 1000,
    in_process: 2000,
    namespaces: 1000,
    memory_flat: 300,
    memory_fork: 40,
    memory_passes: 4,
    rss: 9,
};

fn main() {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match args.first().and_then(|a| a.to_str()) {
        Some(reexec::LAUNCHER) => reexec::launcher(&args[1..]),
        Some(reexec::CHILD) => reexec::child(&args[1..]),
        _ => {}
    }
    let mut full = false;
    let mut out = None;
    let mut asked = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        asked = true;
        match arg.to_str() {
            Some("--full") => full = true,
            Some("--quick") => full = false,
            Some("--out") => out = args.next().map(PathBuf::from),
            Some("--bench") => {} // what `cargo bench` passes
            _ => {
                eprintln!("usage: launch [--quick | --full] [--out DIR]");
                process::exit(2);
            }
        }
    }
    if !asked {
        // `cargo test --all-targets` runs bench targets too, without
        // arguments: timing has no place among the tests.
        eprintln!("launch: a benchmark, not a test: run it with `make bench`");
        return;
    }
    if !is_root() {
        eprintln!("launch: the benchmark creates namespaces, which needs root: run it as root");
        process::exit(1);
    }
    let (rounds, mode) = if full {
        (FULL, "full")
    } else {
        (QUICK, "quick")
    };
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target directory")
        .to_path_buf();
    let out = out.unwrap_or_else(|| {
        if full {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("results")
        } else {
            target.join("bench-results")
        }
    });
    let tools = Tools::find(&target);

    let mut report = format!("# nsclone launch benchmark\n\n{}\n", machine(mode));
    let started = Instant::now();
    let whole = whole_process(&tools, rounds.whole);
    report += &whole.markdown;
    let in_process = in_process(rounds.in_process);
    report += &in_process.markdown;
    let namespaces = namespaces(rounds.namespaces);
    report += &namespaces.markdown;
    let memory = memory(&rounds, full);
    report += &memory.markdown;
    let rss = peak_rss(&tools, rounds.rss);
    report += &rss.markdown;
    report += &goals(&whole, &in_process, &memory, &rss);
    report += &format!(
        "\nMeasured in {:.0} s, {mode} mode.\n",
        started.elapsed().as_secs_f64()
    );

    print!("{report}");
    fs::create_dir_all(&out).expect("create the results folder");
    fs::write(out.join("launch.md"), &report).expect("write launch.md");
    fs::write(out.join("namespaces.svg"), &namespaces.chart).expect("write namespaces.svg");
    fs::write(out.join("memory.svg"), &memory.chart).expect("write memory.svg");
    eprintln!(
        "launch: wrote {}/{{launch.md,namespaces.svg,memory.svg}}",
        out.display()
    );
}

/// One measurement's results: its Markdown, the figures the goals need
/// (by name), and its chart if it has one.
struct Section {
    markdown: String,
    figures: Vec<(&'static str, f64)>,
    chart: String,
}

impl Section {
    fn figure(&self, name: &str) -> Option<f64> {
        self.figures.iter().find(|f| f.0 == name).map(|f| f.1)
    }
}

/// The programs the whole-process measurement runs.
struct Tools {
    nsclone: PathBuf,
    unshare: Option<PathBuf>,
    c_launcher: Option<PathBuf>,
    c_limit: Option<PathBuf>,
    this: PathBuf,
    cat: PathBuf,
}

impl Tools {
    fn find(target: &Path) -> Tools {
        let dir = target.join("bench-bin");
        let limit = ["-static", "-DVFORK"];
        Tools {
            nsclone: PathBuf::from(env!("CARGO_BIN_EXE_nsclone")),
            unshare: which("unshare"),
            c_launcher: build_c_launcher(&dir, "clone_launcher", &[]),
            c_limit: build_c_launcher(&dir, "clone_launcher_static_vfork", &limit),
            this: std::env::current_exe().expect("this program's path"),
            cat: which("cat").unwrap_or_else(|| "/bin/cat".into()),
        }
    }

    /// The launchers, each as the argv that runs `command` through it.
    /// Unavailable tools are left out, with a note on stderr.
    fn launchers(&self, command: &[&str], fork: bool) -> Vec<(&'static str, Vec<OsString>)> {
        let argv = |head: &[&OsStr]| -> Vec<OsString> {
            let head = head.iter().map(|s| s.to_os_string());
            head.chain(command.iter().map(OsString::from)).collect()
        };
        let nsclone = self.nsclone.as_os_str();
        let mut list = Vec::new();
        if let Some(unshare) = &self.unshare {
            if !fork {
                list.push(("unshare -u", argv(&[unshare.as_os_str(), "-u".as_ref()])));
            }
            let args = [unshare.as_os_str(), "-u".as_ref(), "--fork".as_ref()];
            list.push(("unshare -u --fork", argv(&args)));
        }
        list.push(("nsclone -q", argv(&[nsclone, "-q".as_ref()])));
        let args = [nsclone, "-q".as_ref(), "--vfork".as_ref()];
        list.push(("nsclone -q --vfork", argv(&args)));
        let args = [self.this.as_os_str(), reexec::LAUNCHER.as_ref()];
        list.push(("re-exec /proc/self/exe", argv(&args)));
        if let Some(c) = &self.c_launcher {
            list.push(("C launcher", argv(&[c.as_os_str()])));
        }
        if let Some(c) = &self.c_limit {
            list.push(("C launcher, static, vfork", argv(&[c.as_os_str()])));
        }
        list
    }
}

/// Measurement 1, whole process: start a launcher that runs /bin/true,
/// wait for it.
fn whole_process(tools: &Tools, rounds: usize) -> Section {
    eprintln!("launch: 1/5 whole process, {rounds} rounds");
    let mut variants = vec![("/bin/true alone", vec![OsString::from("/bin/true")])];
    variants.extend(tools.launchers(&["/bin/true"], false));
    let mut failures = vec![0usize; variants.len()];
    let samples = interleave(variants.len(), 5, rounds, |i| {
        let argv = &variants[i].1;
        let mut command = process::Command::new(&argv[0]);
        command.args(&argv[1..]);
        command.stdin(Stdio::null()).stdout(Stdio::null());
        command.stderr(Stdio::null());
        let mut ok = true;
        let took = time(|| ok = command.status().is_ok_and(|s| s.success()));
        failures[i] += usize::from(!ok);
        took
    });
    let index = |name: &str| variants.iter().position(|v| v.0 == name);
    let baselines = [
        ("× /bin/true", index("/bin/true alone")),
        ("× unshare -u", index("unshare -u")),
        ("× C launcher", index("C launcher")),
    ];
    let mut header = vec!["command", "median", "p10 – p90"];
    header.extend(baselines.iter().map(|b| b.0));
    let mut table = Table::new(&header);
    let mut figures = Vec::new();
    for (i, (name, _)) in variants.iter().enumerate() {
        let mut row = vec![format!("`{name}`"), micros(median(&samples[i]))];
        row.push(spread(&samples[i]));
        for (_, base) in baselines {
            row.push(match base {
                Some(b) => format!("{:.2}", paired_ratio(&samples[i], &samples[b])),
                None => "–".into(),
            });
        }
        if failures[i] > 0 {
            row[0] += &format!(" ({} runs failed)", failures[i]);
        }
        table.row(row);
        for (label, base) in baselines {
            if let Some(b) = base {
                let key: &'static str = match (*name, label) {
                    ("nsclone -q", "× unshare -u") => "default/unshare",
                    ("nsclone -q --vfork", "× unshare -u") => "vfork/unshare",
                    ("nsclone -q", "× C launcher") => "default/C",
                    ("nsclone -q --vfork", "× C launcher") => "vfork/C",
                    ("C launcher, static, vfork", "× unshare -u") => "limit/unshare",
                    _ => continue,
                };
                figures.push((key, paired_ratio(&samples[i], &samples[b])));
            }
        }
    }
    let markdown = format!(
        "\n## 1. Whole process: a launcher runs `/bin/true` in a new UTS namespace\n\n\
         Time from starting the launcher to reaping it ({rounds} interleaved rounds). \
         Ratios are medians of round-by-round ratios. `unshare -u` execs the command \
         itself; the others clone a child and wait for it. The C launcher \
         (`benches/launch/clone_launcher.c`, dynamically linked) maps a stack, clones, \
         sets the hostname, execvp's and waits; built statically with \
         `CLONE_VM|CLONE_VFORK`, it is close to the limit for any launcher: its own \
         exec, one clone and the command's exec. The re-exec row is the article's \
         approach: clone, exec the launcher again through `/proc/self/exe`, set the \
         hostname there, then exec the command.\n\n{}",
        table.markdown()
    );
    Section {
        markdown,
        figures,
        chart: String::new(),
    }
}

/// Measurement 2, inside one process: spawn /bin/true and wait, three ways.
fn in_process(rounds: usize) -> Section {
    eprintln!("launch: 2/5 in one process, {rounds} rounds");
    let ways = [Way::PosixSpawn, Way::Fork, Way::Vfork];
    let samples = spawn_ways(&ways, 5, rounds);
    let mut table = Table::new(&["spawn of /bin/true", "median", "p10 – p90", "× posix_spawn"]);
    for (i, way) in ways.iter().enumerate() {
        table.row(vec![
            way.name().to_string(),
            micros(median(&samples[i])),
            spread(&samples[i]),
            format!("{:.2}", paired_ratio(&samples[i], &samples[0])),
        ]);
    }
    let markdown = format!(
        "\n## 2. Inside one process: one spawn of `/bin/true`, waited for\n\n\
         {rounds} interleaved rounds. `std::process::Command` uses glibc's posix_spawn \
         (clone with `CLONE_VM|CLONE_VFORK`, no new namespace); nsclone's library adds \
         a new UTS namespace, in fork style (the child gets a copy of the page tables) \
         or vfork style (it borrows the parent's memory until it execs).\n\n{}",
        table.markdown()
    );
    Section {
        markdown,
        figures: vec![
            ("fork/posix_spawn", paired_ratio(&samples[1], &samples[0])),
            ("vfork/posix_spawn", paired_ratio(&samples[2], &samples[0])),
        ],
        chart: String::new(),
    }
}

/// One way to spawn /bin/true from inside this process.
#[derive(Clone, Copy)]
enum Way {
    /// `std::process::Command`, which uses glibc's posix_spawn.
    PosixSpawn,
    /// nsclone's library, fork style.
    Fork,
    /// nsclone's library, vfork style.
    Vfork,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::PosixSpawn => "`std::process::Command` (posix_spawn)",
            Way::Fork => "nsclone fork style",
            Way::Vfork => "nsclone vfork style",
        }
    }
}

/// Spawn /bin/true and wait, each of `ways` once a round, interleaved.
fn spawn_ways(ways: &[Way], warmup: usize, rounds: usize) -> Vec<Vec<f64>> {
    let mut std_command = process::Command::new("/bin/true");
    let fork = nsclone::Command::new("/bin/true");
    let mut vfork = nsclone::Command::new("/bin/true");
    vfork.vfork(true);
    interleave(ways.len(), warmup, rounds, |i| {
        time(|| match ways[i] {
            Way::PosixSpawn => assert!(std_command.status().expect("spawn").success()),
            Way::Fork => assert_eq!(fork.spawn().and_then(|c| c.wait()).unwrap().exit_code(), 0),
            Way::Vfork => {
                assert_eq!(vfork.spawn().and_then(|c| c.wait()).unwrap().exit_code(), 0)
            }
        })
    })
}

/// Measurement 3, the cost of creating each namespace type: clone with its
/// flag, the child exits at once, the parent waits.
fn namespaces(rounds: usize) -> Section {
    eprintln!("launch: 3/5 namespaces, {rounds} rounds");
    let types: [(&str, i32); 7] = [
        ("UTS", libc::CLONE_NEWUTS),
        ("IPC", libc::CLONE_NEWIPC),
        ("PID", libc::CLONE_NEWPID),
        ("mount", libc::CLONE_NEWNS),
        ("network", libc::CLONE_NEWNET),
        ("user", libc::CLONE_NEWUSER),
        ("cgroup", libc::CLONE_NEWCGROUP),
    ];
    let all = types.iter().fold(0, |flags, t| flags | t.1);
    let mut variants = vec![("none", 0)];
    variants.extend(types);
    variants.push(("all seven", all));
    let stack = Stack::new().expect("map a stack");
    let mut failed = vec![None; variants.len()];
    let samples = interleave(variants.len(), 3, rounds, |i| {
        let flags = variants[i].1 as u64 | libc::SIGCHLD as u64 | nsclone::command::VFORK_FLAGS;
        let mut child = || 0;
        time(|| {
            // SAFETY: the child only returns 0, which exits: it touches
            // nothing of the parent's, whose memory it shares until then.
            match unsafe { clone(flags, &stack, &mut child) } {
                Ok(pid) => {
                    let _ = wait::wait(pid);
                }
                Err(errno) => failed[i] = Some(errno),
            }
        })
    });
    let mut table = Table::new(&["new namespace", "median", "p10 – p90", "added to none"]);
    let mut bars = Vec::new();
    for (i, (name, _)) in variants.iter().enumerate() {
        let med = median(&samples[i]);
        let added = if i == 0 {
            "–".to_string()
        } else {
            format!("{:+.0} µs", paired_difference(&samples[i], &samples[0]))
        };
        let mut cells = vec![name.to_string(), micros(med), spread(&samples[i]), added];
        if let Some(errno) = failed[i] {
            cells[0] += &format!(" (clone failed: {errno})");
        }
        table.row(cells);
        bars.push((name.to_string(), med));
    }
    let markdown = format!(
        "\n## 3. The cost of each namespace type\n\n\
         One clone (vfork style, with `SIGCHLD`) whose child exits at once, and the \
         parent's wait4; {rounds} interleaved rounds. \"Added\" is the median of the \
         round-by-round differences from no new namespace. The time namespace is not \
         here: its flag, `CLONE_NEWTIME`, does not fit in clone(2)'s flags (it would be \
         read as an exit signal) and needs unshare(2) or clone3(2). A new network \
         namespace is also torn down by a kernel worker after the child exits, which \
         costs more CPU than this table shows.\n\n{}",
        table.markdown()
    );
    let chart = svg::bars("Creating each namespace type (one clone, median µs)", &bars);
    Section {
        markdown,
        figures: Vec::new(),
        chart,
    }
}

/// Measurement 4, spawn cost against the parent's resident memory.
///
/// Fork style is measured in its own block after the others: a fork
/// write-protects all of the parent's pages (copy-on-write), so the spawns
/// that follow one pay page faults and cold caches that are fork's doing.
fn memory(rounds: &Rounds, full: bool) -> Section {
    let available = meminfo("MemAvailable:").unwrap_or(0) as usize / 1024;
    let mut sizes = vec![1usize, 64, 512];
    let mut skipped = Vec::new();
    for mib in [2048usize, 4096] {
        // Keep a good margin for the rest of the machine.
        if available > mib * 2 && (mib <= 2048 || full) {
            sizes.push(mib);
        } else if mib <= 2048 {
            skipped.push(mib);
        }
    }
    let (flat, forks) = (rounds.memory_flat, rounds.memory_fork);
    // The sizes cannot be interleaved (the memory is what is measured), so
    // they are visited in several passes, up then down, to spread drift.
    let passes = rounds.memory_passes;
    eprintln!("launch: 4/5 memory {sizes:?} MiB, {passes} passes, {flat} and {forks} rounds each");
    // Per size: the samples of posix_spawn, vfork style, fork style; and
    // the resident size.
    let mut samples = vec![vec![Vec::new(); 3]; sizes.len()];
    let mut resident = vec![0; sizes.len()];
    for pass in 0..passes {
        let mut order: Vec<usize> = (0..sizes.len()).collect();
        if pass % 2 == 1 {
            order.reverse();
        }
        for k in order {
            let ballast = touch(sizes[k] << 20);
            resident[k] = status_kib(process::id(), "VmRSS:").unwrap_or(0);
            let flat = spawn_ways(&[Way::PosixSpawn, Way::Vfork], 5, flat / passes);
            let fork = spawn_ways(&[Way::Fork], 2, forks / passes);
            drop(ballast);
            for (all, new) in samples[k].iter_mut().zip(flat.into_iter().chain(fork)) {
                all.extend(new);
            }
        }
    }
    let mut table = Table::new(&[
        "touched",
        "resident",
        "posix_spawn",
        "vfork style",
        "vfork ÷ posix_spawn",
        "fork style",
        "fork ÷ vfork",
    ]);
    // Medians per size: posix_spawn, vfork style, fork style.
    let mut series: Vec<Vec<(f64, f64)>> = vec![Vec::new(); 3];
    for (k, &mib) in sizes.iter().enumerate() {
        let meds: Vec<f64> = samples[k].iter().map(|s| median(s)).collect();
        for (line, &med) in series.iter_mut().zip(&meds) {
            line.push((mib as f64, med));
        }
        table.row(vec![
            format!("{mib} MiB"),
            format!("{:.0} MiB", resident[k] as f64 / 1024.0),
            micros(meds[0]),
            micros(meds[1]),
            format!("{:.2}", paired_ratio(&samples[k][1], &samples[k][0])),
            micros(meds[2]),
            format!("{:.1}", meds[2] / meds[1]),
        ]);
    }
    let vfork_first = series[1].first().map(|p| p.1);
    let vfork_2g = series[1].iter().find(|p| p.0 == 2048.0).map(|p| p.1);
    let figures = match (vfork_first, vfork_2g) {
        (Some(first), Some(big)) => vec![("vfork 2GiB/1MiB", big / first)],
        _ => Vec::new(),
    };
    let mut markdown = format!(
        "\n## 4. Spawn cost against the parent's memory\n\n\
         The benchmark touches a block of memory (one write per page, so it is \
         resident), then spawns `/bin/true` and waits; medians of {flat} interleaved \
         rounds of posix_spawn and vfork style, then of {forks} rounds of fork style, \
         over {passes} passes through the sizes (up, then down). The sizes cannot be \
         interleaved, so drift between them shows; vfork ÷ posix_spawn, paired, \
         does not drift. \
         Fork style copies the page tables of everything resident (and the child's \
         exec then tears the copy down); vfork style and posix_spawn copy nothing.\n\n{}",
        table.markdown()
    );
    if !skipped.is_empty() {
        markdown += &format!(
            "\nLeft out for want of memory ({available} MiB available): {skipped:?} MiB.\n"
        );
    }
    let names = [
        "posix_spawn (std)",
        "nsclone vfork style",
        "nsclone fork style",
    ];
    let colors = ["#999999", "#4477aa", "#cc3311"];
    let lines: Vec<svg::Series> = series
        .into_iter()
        .enumerate()
        .map(|(i, points)| svg::Series {
            name: names[i].into(),
            color: colors[i],
            dashed: i == 0,
            points,
        })
        .collect();
    let chart = svg::lines("Spawn of /bin/true against the parent's memory", &lines);
    Section {
        markdown,
        figures,
        chart,
    }
}

/// `len` bytes of memory with every page written once, so it is resident.
fn touch(len: usize) -> Vec<u8> {
    let mut block = vec![0u8; len];
    for page in block.chunks_mut(4096) {
        page[0] = 1;
    }
    std::hint::black_box(block)
}

/// Measurement 5, the launcher's peak resident memory while the command runs.
fn peak_rss(tools: &Tools, reps: usize) -> Section {
    eprintln!("launch: 5/5 peak resident memory, {reps} runs each");
    let cat = tools.cat.to_str().expect("UTF-8 path");
    let mut table = Table::new(&["launcher (running cat)", "peak resident (VmHWM)"]);
    let mut figures = Vec::new();
    for (name, argv) in tools.launchers(&[cat], true) {
        let peaks: Vec<f64> = (0..reps).filter_map(|_| launcher_peak(&argv)).collect();
        let cell = if peaks.is_empty() {
            "(not measured)".to_string()
        } else {
            format!("{:.2} MiB", median(&peaks) / 1024.0)
        };
        table.row(vec![format!("`{name}`"), cell]);
        match name {
            "nsclone -q" if !peaks.is_empty() => figures.push(("rss default", median(&peaks))),
            "nsclone -q --vfork" if !peaks.is_empty() => {
                figures.push(("rss vfork", median(&peaks)))
            }
            _ => {}
        }
    }
    let markdown = format!(
        "\n## 5. The launcher's own peak resident memory\n\n\
         `VmHWM` of the launcher process, read from `/proc/PID/status` while its \
         command (`cat`, reading a pipe) runs; median of {reps} runs. Resident pages \
         of the launcher's own binary count, shared or not. `unshare -u` without \
         `--fork` is not here: it becomes the command.\n\n{}",
        table.markdown()
    );
    Section {
        markdown,
        figures,
        chart: String::new(),
    }
}

/// Start `argv` with a pipe as its command's input, wait until its child has
/// become `cat`, read the launcher's VmHWM (KiB), then let it finish.
fn launcher_peak(argv: &[OsString]) -> Option<f64> {
    let mut launcher = process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let pid = launcher.id();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut ready = false;
    while !ready && Instant::now() < deadline {
        let children = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"));
        ready = children
            .unwrap_or_default()
            .split_whitespace()
            .any(|child| {
                let comm = fs::read_to_string(format!("/proc/{child}/comm"));
                comm.is_ok_and(|c| c.trim() == "cat")
            });
        std::thread::sleep(Duration::from_millis(2));
    }
    // Let the launcher reach its wait after the exec.
    std::thread::sleep(Duration::from_millis(20));
    let peak = status_kib(pid, "VmHWM:");
    drop(launcher.stdin.take());
    let _ = launcher.wait();
    if ready {
        peak.map(|kib| kib as f64)
    } else {
        None
    }
}

/// The goals of issue 5, measured against this run's figures.
fn goals(whole: &Section, in_process: &Section, memory: &Section, rss: &Section) -> String {
    let mut table = Table::new(&["goal", "target", "measured", "verdict"]);
    let mut goal = |what: &str, target: f64, measured: Option<f64>, unit: &str| {
        let (shown, verdict) = match measured {
            Some(m) if m <= target => (format!("{m:.2}{unit}"), "holds".to_string()),
            Some(m) => (
                format!("{m:.2}{unit}"),
                format!("misses by {:.0}%", (m / target - 1.0) * 100.0),
            ),
            None => ("–".into(), "not measured".into()),
        };
        table.row(vec![
            what.into(),
            format!("≤ {target}{unit}"),
            shown,
            verdict,
        ]);
    };
    goal(
        "`nsclone -q` ÷ `unshare -u`",
        0.80,
        whole.figure("default/unshare"),
        "",
    );
    goal(
        "`nsclone -q --vfork` ÷ `unshare -u`",
        0.70,
        whole.figure("vfork/unshare"),
        "",
    );
    goal(
        "`nsclone -q` ÷ C launcher",
        1.0,
        whole.figure("default/C"),
        "",
    );
    goal(
        "`nsclone -q --vfork` ÷ C launcher",
        1.0,
        whole.figure("vfork/C"),
        "",
    );
    goal(
        "in-process vfork style ÷ posix_spawn",
        1.0,
        in_process.figure("vfork/posix_spawn"),
        "",
    );
    goal(
        "in-process fork style ÷ posix_spawn",
        1.15,
        in_process.figure("fork/posix_spawn"),
        "",
    );
    goal(
        "vfork style at 2 GiB ÷ at 1 MiB",
        1.3,
        memory.figure("vfork 2GiB/1MiB"),
        "",
    );
    let mib = |name| rss.figure(name).map(|kib| kib / 1024.0);
    goal(
        "`nsclone -q` peak resident",
        1.0,
        mib("rss default"),
        " MiB",
    );
    goal(
        "`nsclone -q --vfork` peak resident",
        1.0,
        mib("rss vfork"),
        " MiB",
    );
    let mut text = format!(
        "\n## Goals (issue 5)\n\nRatios are paired medians from the tables above, except \
         2 GiB ÷ 1 MiB, a ratio of two medians taken one after the other.\n\n{}",
        table.markdown()
    );
    if let Some(limit) = whole.figure("limit/unshare") {
        text += &format!(
            "\nFor scale: the static C launcher with `CLONE_VM|CLONE_VFORK`, about the \
             least any launcher can cost, measured {limit:.2} × `unshare -u`.\n"
        );
    }
    text
}

/// The article's approach, played by this program: the launcher clones a
/// child in a new UTS namespace that execs this very program again
/// (`/proc/self/exe`); that second start sets the hostname and execs the
/// command. One more exec and one more program start than nsclone.
mod reexec {
    use std::ffi::OsString;
    use std::process::exit;

    use nsclone::exec::ExecPlan;

    pub const LAUNCHER: &str = "--reexec-launcher";
    pub const CHILD: &str = "--reexec-child";

    pub fn launcher(command: &[OsString]) -> ! {
        let status = nsclone::Command::new("/proc/self/exe")
            .arg(CHILD)
            .args(command)
            .spawn()
            .and_then(|child| child.wait());
        match status {
            Ok(status) => exit(status.exit_code()),
            Err(error) => {
                eprintln!("reexec: {error}");
                exit(error.exit_code())
            }
        }
    }

    pub fn child(command: &[OsString]) -> ! {
        if let Err(errno) = nsclone::sys::sethostname(b"newhostname") {
            eprintln!("reexec: sethostname: {errno}");
            exit(125);
        }
        let path = std::env::var_os("PATH");
        let env = std::env::vars_os();
        let Ok(mut plan) = ExecPlan::new(&command[0], &command[1..], env, path.as_deref()) else {
            exit(125)
        };
        exit(plan.exec().exit_code())
    }
}

/// Compile `clone_launcher.c` with `cc` (or `$CC`) and `flags` into
/// `dir/name`: dynamically linked unless the flags say otherwise.
fn build_c_launcher(dir: &Path, name: &str, flags: &[&str]) -> Option<PathBuf> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/launch/clone_launcher.c");
    let binary = dir.join(name);
    fs::create_dir_all(dir).ok()?;
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let built = process::Command::new(&cc)
        .arg("-O2")
        .args(flags)
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .status();
    match built {
        Ok(status) if status.success() => Some(binary),
        _ => {
            eprintln!("launch: could not compile {name} with {cc:?} {flags:?}: no row for it");
            None
        }
    }
}

/// The first executable called `name` in PATH.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file()))
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

/// A `Name:  N kB` field of /proc/PID/status, in KiB.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    kib_field(&status, field)
}

/// A `Name:  N kB` field of /proc/meminfo, in KiB.
fn meminfo(field: &str) -> Option<u64> {
    kib_field(&fs::read_to_string("/proc/meminfo").ok()?, field)
}

fn kib_field(text: &str, field: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The machine, as the report's first line: cores, processor, memory,
/// kernel, and the date.
fn machine(mode: &str) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut cpuinfo = String::new();
    let _ = fs::File::open("/proc/cpuinfo").and_then(|mut f| f.read_to_string(&mut cpuinfo));
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown processor".into(), |m| m.trim().to_string());
    let ram = meminfo("MemTotal:").unwrap_or(0) as f64 / (1024.0 * 1024.0);
    let kernel = sys::uname().map_or("?".into(), |u| {
        let bytes: Vec<u8> = u
            .release
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    });
    format!(
        "Machine: {cores} CPUs ({cpu}), {ram:.0} GiB, Linux {kernel}; {} (UTC); {mode} mode.\n",
        today()
    )
}

/// Today's date, from the clock (days since 1970 to a civil date).
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
