//! How fast nsclone starts a command, and why: `make bench`, or
//! `cargo bench --bench launch -- [--full] [--out DIR]` (`make bench-full`).
//!
//! Five measurements, each interleaved (every round runs every variant once,
//! in a new random order) so that ratios can be taken round by round:
//!
//! 1. the whole process, from outside: `/bin/true` alone; util-linux
//!    `unshare -u` and `unshare -u --fork`; `nsclone -q`, fork and vfork
//!    style; the article's approach, which re-executes `/proc/self/exe`
//!    before the command (this program plays it, see [`reexec`]); a minimal
//!    C launcher, `clone_launcher.c`, with glibc dynamic and static; the
//!    limit, `nolibc_launcher.c`, which has no libc at all; and three
//!    programs that do nothing (`startup.c`), to show what glibc's start-up
//!    costs on a virtual machine and where that time goes (CPUID);
//! 2. inside one process, per spawn of `/bin/true`: `std::process::Command`
//!    (glibc's posix_spawn, which clones with `CLONE_VM|CLONE_VFORK`), and
//!    nsclone's library in fork and in vfork style;
//! 3. the cost of each namespace type, with raw clone flags;
//! 4. the cost of a spawn against the memory the parent has touched;
//! 5. the launcher's own peak resident memory while the command runs.
//!
//! It prints Markdown tables and writes them, with two SVG charts, to
//! `target/bench-results/` (quick mode, the default: well under a minute)
//! or `results/` (`--full`: more rounds, what the README shows). It needs
//! root, for the namespaces, and `cc` for the C programs. It measures and
//! never fails on a figure: the goals table at the end (issue 10's) says
//! which goals hold.
//!
//! The nsclone library is used in one place, [`library`]; the rest is std
//! and the libc crate.

mod stats;
mod svg;

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{self, Stdio};
use std::time::{Duration, Instant};

use stats::{
    Summary, Table, interleave, median, micros, paired_difference, paired_ratio, ratios, spread,
    time,
};

/// The nsclone the whole-process rows run, whose memory and size the goals
/// report: the release binary that `make build` makes (the Makefile's
/// `BIN`, which `make bench` builds first), relative to the project.
const NSCLONE: &str = "target/release/nsclone";

/// How `nolibc_launcher.c` and the no-libc `startup.c` are compiled (after
/// `cc -O2`): no C library, no C runtime start-up, our own `_start`.
const NOLIBC_FLAGS: [&str; 7] = [
    // No dynamic loader: the kernel jumps straight to our _start.
    "-static",
    // Link no libc (and no libgcc): a missing memcpy would fail the link.
    "-nostdlib",
    // No crt1.o and friends: _start is ours.
    "-nostartfiles",
    // No hosted C library to assume (implies -fno-builtin).
    "-ffreestanding",
    // The stack canary is read from TLS (%fs:0x28), which nobody sets up.
    "-fno-stack-protector",
    // A fixed-address executable: a static PIE would first have to
    // relocate itself, which is libc's start-up code.
    "-fno-pie",
    "-no-pie",
];

// The rows that the goals and the start-up note look up by name.
const TRUE_ALONE: &str = "`/bin/true` alone";
const UNSHARE: &str = "`unshare -u`";
const NSCLONE_Q: &str = "`nsclone -q`";
const NSCLONE_VFORK: &str = "`nsclone -q --vfork`";
const NOLIBC_LAUNCHER: &str = "C launcher, no libc, vfork";
const EMPTY_GLIBC: &str = "empty `main`, static glibc";
const EMPTY_NOLIBC: &str = "empty `_start`, no libc";
const CPUIDS: &str = "60 CPUIDs, no libc";
/// How many CPUIDs the [`CPUIDS`] row executes (`startup.c -DCPUIDS=60`).
const CPUID_COUNT: u32 = 60;

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
    whole: 300,
    in_process: 200,
    namespaces: 100,
    memory_flat: 50,
    memory_fork: 10,
    memory_passes: 2,
    rss: 5,
};

const FULL: Rounds = Rounds {
    whole: 2000,
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
    report += &goals(&whole, &in_process, &rss, &tools.nsclone);
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
    figures: Vec<(&'static str, Summary)>,
    chart: String,
}

impl Section {
    fn figure(&self, name: &str) -> Option<Summary> {
        self.figures.iter().find(|f| f.0 == name).map(|f| f.1)
    }
}

/// The programs the whole-process measurement runs.
struct Tools {
    nsclone: PathBuf,
    unshare: Option<PathBuf>,
    /// `clone_launcher.c`, linked with glibc: dynamically (fork style),
    /// and statically with `-DVFORK`.
    c_launcher: Option<PathBuf>,
    c_static: Option<PathBuf>,
    /// `nolibc_launcher.c`: the limit.
    c_nolibc: Option<PathBuf>,
    /// `startup.c`, built three ways: (row name, program).
    startup: Vec<(&'static str, PathBuf)>,
    this: PathBuf,
    cat: PathBuf,
}

impl Tools {
    fn find(target: &Path) -> Tools {
        let nsclone = Path::new(env!("CARGO_MANIFEST_DIR")).join(NSCLONE);
        if !nsclone.is_file() {
            eprintln!("launch: no {NSCLONE}: build it first (`make bench` does)");
            process::exit(1);
        }
        let dir = target.join("bench-bin");
        fn nolibc<'a>(extra: &[&'a str]) -> Vec<&'a str> {
            NOLIBC_FLAGS.iter().chain(extra).copied().collect()
        }
        let cpuids = format!("-DCPUIDS={CPUID_COUNT}");
        let startup = [
            (EMPTY_GLIBC, "startup_glibc", vec!["-static"]),
            (EMPTY_NOLIBC, "startup_nolibc", nolibc(&["-DNOLIBC"])),
            (CPUIDS, "startup_cpuids", nolibc(&["-DNOLIBC", &cpuids])),
        ];
        Tools {
            nsclone,
            unshare: which("unshare"),
            c_launcher: compile(&dir, "clone_launcher.c", "clone_launcher", &[]),
            c_static: compile(
                &dir,
                "clone_launcher.c",
                "clone_launcher_static_vfork",
                &["-static", "-DVFORK"],
            ),
            c_nolibc: compile(&dir, "nolibc_launcher.c", "nolibc_launcher", &nolibc(&[])),
            startup: startup
                .iter()
                .filter_map(|(row, name, flags)| {
                    Some((*row, compile(&dir, "startup.c", name, flags)?))
                })
                .collect(),
            this: std::env::current_exe().expect("this program's path"),
            cat: which("cat").unwrap_or_else(|| "/bin/cat".into()),
        }
    }

    /// The launchers, each as the argv that runs `command` (an absolute
    /// path: the no-libc launcher does no PATH search) through it.
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
                list.push((UNSHARE, argv(&[unshare.as_os_str(), "-u".as_ref()])));
            }
            let args = [unshare.as_os_str(), "-u".as_ref(), "--fork".as_ref()];
            list.push(("`unshare -u --fork`", argv(&args)));
        }
        list.push((NSCLONE_Q, argv(&[nsclone, "-q".as_ref()])));
        let args = [nsclone, "-q".as_ref(), "--vfork".as_ref()];
        list.push((NSCLONE_VFORK, argv(&args)));
        let args = [self.this.as_os_str(), reexec::LAUNCHER.as_ref()];
        list.push(("re-exec `/proc/self/exe`", argv(&args)));
        if let Some(c) = &self.c_launcher {
            list.push(("C launcher, glibc", argv(&[c.as_os_str()])));
        }
        if let Some(c) = &self.c_static {
            list.push(("C launcher, static glibc, vfork", argv(&[c.as_os_str()])));
        }
        if let Some(c) = &self.c_nolibc {
            list.push((NOLIBC_LAUNCHER, argv(&[c.as_os_str()])));
        }
        list
    }
}

/// Measurement 1, whole process: start a launcher that runs /bin/true,
/// wait for it; and start programs that do nothing.
fn whole_process(tools: &Tools, rounds: usize) -> Section {
    eprintln!("launch: 1/5 whole process, {rounds} rounds");
    let mut variants = vec![(TRUE_ALONE, vec![OsString::from("/bin/true")])];
    variants.extend(tools.launchers(&["/bin/true"], false));
    let startup = tools.startup.iter();
    variants.extend(startup.map(|(row, program)| (*row, vec![program.into()])));
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
        ("× /bin/true", index(TRUE_ALONE)),
        ("× unshare -u", index(UNSHARE)),
        ("× no-libc launcher", index(NOLIBC_LAUNCHER)),
    ];
    let mut header = vec!["command", "median", "p10 – p90"];
    header.extend(baselines.iter().map(|b| b.0));
    let mut table = Table::new(&header);
    for (i, (name, _)) in variants.iter().enumerate() {
        let mut row = vec![name.to_string(), micros(median(&samples[i]))];
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
    }
    // The goals' figures: round-by-round ratios of two rows, summarized.
    let pair = |a: &str, b: &str| Some(ratios(&samples[index(a)?], &samples[index(b)?]));
    let figures = [
        ("default/unshare", pair(NSCLONE_Q, UNSHARE)),
        ("vfork/unshare", pair(NSCLONE_VFORK, UNSHARE)),
        ("vfork/nolibc", pair(NSCLONE_VFORK, NOLIBC_LAUNCHER)),
        ("nolibc/unshare", pair(NOLIBC_LAUNCHER, UNSHARE)),
    ];
    let figures = figures
        .into_iter()
        .filter_map(|(name, ratios)| Some((name, Summary::of(&ratios?))))
        .collect();
    let at = |name: &str| index(name).map(|i| samples[i].as_slice());
    let startup = match (at(EMPTY_GLIBC), at(EMPTY_NOLIBC), at(CPUIDS)) {
        (Some(glibc), Some(nolibc), Some(cpuids)) => startup_note(tools, glibc, nolibc, cpuids),
        _ => String::new(),
    };
    let markdown = format!(
        "\n## 1. Whole process: a launcher runs `/bin/true` in a new UTS namespace\n\n\
         Time from starting the launcher to reaping it ({rounds} interleaved rounds). \
         Ratios are medians of round-by-round ratios. `unshare -u` execs the command \
         itself; the others clone a child and wait for it. The C launcher \
         (`benches/launch/clone_launcher.c`) maps a stack, clones, sets the hostname, \
         execvp's and waits; the static glibc build clones with \
         `CLONE_VM|CLONE_VFORK`. The no-libc launcher (`nolibc_launcher.c`: its own \
         `_start`, raw system calls, `CLONE_VM|CLONE_VFORK` on a static stack, \
         sethostname, execve, wait4) is the limit for any launcher: its own exec, one \
         clone and the command's exec, and nothing before its first instruction. The \
         re-exec row is the article's approach: a child in a new UTS namespace execs \
         the launcher again through `/proc/self/exe`, which sets the hostname there, \
         then execs the command. \
         The last three rows are programs that do nothing (`startup.c`), explained \
         below the table.\n\n{}{startup}",
        table.markdown()
    );
    Section {
        markdown,
        figures,
        chart: String::new(),
    }
}

/// What the start-up rows show: what glibc's start-up adds to an empty
/// program, what CPUID costs here, and (single-stepping the programs) how
/// many CPUIDs glibc executes before `main`.
fn startup_note(tools: &Tools, glibc: &[f64], nolibc: &[f64], cpuids: &[f64]) -> String {
    let start_up = paired_difference(glibc, nolibc);
    let cpuid = paired_difference(cpuids, nolibc) / f64::from(CPUID_COUNT);
    let mut table = Table::new(&["start-up", "added to an empty no-libc program"]);
    table.row(vec![
        "static glibc's, before an empty `main`".into(),
        format!("{start_up:+.0} µs"),
    ]);
    table.row(vec![
        format!("{CPUID_COUNT} CPUID instructions"),
        format!(
            "{:+.0} µs ({cpuid:.1} µs each)",
            cpuid * f64::from(CPUID_COUNT)
        ),
    ]);
    let mut text = format!(
        "\n### What starting a program costs\n\n\
         Paired differences from the empty no-libc program, whose `_start` makes \
         exit_group(2) and nothing else. On a virtual machine the CPUID instruction \
         traps to the hypervisor, which answers in the processor's place.\n\n{}",
        table.markdown()
    );
    let program = |row: &str| tools.startup.iter().find(|s| s.0 == row).map(|s| &s.1);
    let steps = |row: &str| program(row).and_then(|p| single_step(p));
    if let (Some(g), Some(n)) = (steps(EMPTY_GLIBC), steps(EMPTY_NOLIBC)) {
        text += &format!(
            "\nSingle-stepped with ptrace(2), the empty static glibc program executes \
             {} instructions from its first to its exit (their number grows with the \
             environment, which glibc reads through: {} variables here), {} of them \
             system calls and {} CPUIDs (glibc asks the processor for its features and \
             cache sizes, to choose memcpy's variant among others); the empty no-libc \
             program {}, {} and \
             {}. At {cpuid:.1} µs each, those CPUIDs account for about {:.0} µs of the \
             {start_up:.0} µs that glibc's start-up adds. Every program linked with glibc \
             pays this before its `main`; a launcher without libc does not.\n",
            g.instructions,
            std::env::vars_os().count(),
            g.syscalls,
            g.cpuids,
            n.instructions,
            n.syscalls,
            n.cpuids,
            cpuid * g.cpuids as f64,
        );
    }
    text
}

/// What a program executes, counted one instruction at a time.
struct Steps {
    instructions: u64,
    syscalls: u64,
    cpuids: u64,
}

/// Run `program` under ptrace(2), single-stepping from its first
/// instruction after execve to its exit, and count the instructions, and
/// the `syscall` (0f 05) and `cpuid` (0f a2) among them.
fn single_step(program: &Path) -> Option<Steps> {
    let mut command = process::Command::new(program);
    // SAFETY: between fork and exec, one system call and no allocation.
    unsafe {
        command.pre_exec(|| {
            if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // The child stops with SIGTRAP once its execve has succeeded.
    let pid = command.spawn().ok()?.id() as libc::pid_t;
    let mut steps = Steps {
        instructions: 0,
        syscalls: 0,
        cpuids: 0,
    };
    let mut status = 0;
    // SAFETY: ptrace and waitpid on our own traced child; `regs` is plain
    // data that PTRACE_GETREGS fills in.
    unsafe {
        libc::waitpid(pid, &mut status, 0);
        while libc::WIFSTOPPED(status) {
            let mut regs: libc::user_regs_struct = std::mem::zeroed();
            libc::ptrace(libc::PTRACE_GETREGS, pid, 0, &mut regs);
            let word = libc::ptrace(libc::PTRACE_PEEKTEXT, pid, regs.rip, 0);
            match word.to_le_bytes()[..2] {
                [0x0f, 0x05] => steps.syscalls += 1,
                [0x0f, 0xa2] => steps.cpuids += 1,
                _ => {}
            }
            steps.instructions += 1;
            libc::ptrace(libc::PTRACE_SINGLESTEP, pid, 0, 0);
            libc::waitpid(pid, &mut status, 0);
        }
    }
    (libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0).then_some(steps)
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
            (
                "fork/posix_spawn",
                Summary::of(&ratios(&samples[1], &samples[0])),
            ),
            (
                "vfork/posix_spawn",
                Summary::of(&ratios(&samples[2], &samples[0])),
            ),
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
    let fork = library::Spawner::new("/bin/true", false);
    let vfork = library::Spawner::new("/bin/true", true);
    interleave(ways.len(), warmup, rounds, |i| {
        time(|| match ways[i] {
            Way::PosixSpawn => assert!(std_command.status().expect("spawn").success()),
            Way::Fork => assert_eq!(fork.run(), Ok(0)),
            Way::Vfork => assert_eq!(vfork.run(), Ok(0)),
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
    let raw_clone = library::RawClone::new();
    let mut failed = vec![None; variants.len()];
    let samples = interleave(variants.len(), 3, rounds, |i| {
        time(|| {
            if let Err(error) = raw_clone.run(variants[i].1) {
                failed[i] = Some(error);
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
        if let Some(error) = &failed[i] {
            cells[0] += &format!(" (clone failed: {error})");
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
        figures: Vec::new(),
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
        if peaks.is_empty() {
            table.row(vec![name.into(), "(not measured)".into()]);
            continue;
        }
        table.row(vec![name.into(), format!("{:.0} KiB", median(&peaks))]);
        match name {
            NSCLONE_Q => figures.push(("rss default", Summary::of(&peaks))),
            NSCLONE_VFORK => figures.push(("rss vfork", Summary::of(&peaks))),
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

/// The goals of issue 10, measured against this run's figures.
fn goals(whole: &Section, in_process: &Section, rss: &Section, nsclone: &Path) -> String {
    let mut table = Table::new(&["goal", "target", "measured (p10 – p90)", "holds"]);
    let mut goal = |what: &str, target: f64, measured: Option<Summary>, show: fn(f64) -> String| {
        let (cell, holds) = match measured {
            Some(m) => (
                format!("{} ({} – {})", show(m.median), show(m.p10), show(m.p90)),
                if m.median <= target { "yes" } else { "no" },
            ),
            None => ("not measured".into(), "–"),
        };
        table.row(vec![
            what.into(),
            format!("≤ {}", show(target)),
            cell,
            holds.into(),
        ]);
    };
    let ratio = |x: f64| format!("{x:.2}");
    let kib = |x: f64| format!("{x:.0} KiB");
    goal(
        "`nsclone -q /bin/true` ÷ `unshare -u /bin/true`",
        0.70,
        whole.figure("default/unshare"),
        ratio,
    );
    goal(
        "`nsclone -q --vfork` ÷ `unshare -u`",
        0.65,
        whole.figure("vfork/unshare"),
        ratio,
    );
    goal(
        "`nsclone -q --vfork` ÷ the no-libc C launcher",
        1.10,
        whole.figure("vfork/nolibc"),
        ratio,
    );
    goal(
        "`nsclone -q` peak resident (VmHWM)",
        256.0,
        rss.figure("rss default"),
        kib,
    );
    goal(
        "`nsclone -q --vfork` peak resident (VmHWM)",
        256.0,
        rss.figure("rss vfork"),
        kib,
    );
    goal(
        "in-process vfork style ÷ posix_spawn",
        1.05,
        in_process.figure("vfork/posix_spawn"),
        ratio,
    );
    goal(
        "in-process fork style ÷ posix_spawn (issue 5's target)",
        1.15,
        in_process.figure("fork/posix_spawn"),
        ratio,
    );
    let size = fs::metadata(nsclone).map_or(0, |m| m.len());
    table.row(vec![
        "size of the release binary".into(),
        "≤ 300 KB".into(),
        format!("{:.0} KB ({size} bytes)", size as f64 / 1000.0),
        if size <= 300_000 { "yes" } else { "no" }.into(),
    ]);
    let mut text = format!(
        "\n## Goals (issue 10)\n\n\
         Ratios are medians of the round-by-round ratios in the tables above, with the \
         10th and 90th percentiles of those ratios; peak resident memory is the median \
         of the runs in table 5, with their spread; the size is that of the binary \
         measured here, `{NSCLONE}`. A goal holds when the median meets it.\n\n{}",
        table.markdown()
    );
    if let Some(limit) = whole.figure("nolibc/unshare") {
        text += &format!(
            "\nFor scale: the no-libc C launcher, about the least any launcher can cost, \
             measured {:.2} × `unshare -u`.\n",
            limit.median
        );
    }
    text
}

/// Every use of the nsclone library, in one place, so that the bench
/// follows the library's API as it changes: the in-process spawns through
/// `nsclone::Command` (measurements 2 and 4), and a raw clone on a
/// hand-mapped stack (measurement 3).
mod library {
    use nsclone::clone::clone;
    use nsclone::stack::Stack;

    /// `nsclone::Command` running one program in a new UTS namespace, in
    /// fork or vfork style.
    pub struct Spawner(nsclone::Command);

    impl Spawner {
        pub fn new(program: &str, vfork: bool) -> Spawner {
            let mut command = nsclone::Command::new(program);
            command.vfork(vfork);
            Spawner(command)
        }

        /// Spawn the program and wait for it: its exit code.
        pub fn run(&self) -> Result<i32, String> {
            let status = self.0.spawn().and_then(|child| child.wait());
            status.map(|s| s.exit_code()).map_err(|e| e.to_string())
        }
    }

    /// Raw clones, one at a time, on one stack mapped once.
    pub struct RawClone(Stack);

    impl RawClone {
        pub fn new() -> RawClone {
            RawClone(Stack::new().expect("map a stack"))
        }

        /// clone(2) with `namespaces | CLONE_VM | CLONE_VFORK | SIGCHLD`
        /// whose child exits at once, and the parent's wait4.
        pub fn run(&self, namespaces: i32) -> Result<(), String> {
            let vfork = libc::CLONE_VM | libc::CLONE_VFORK;
            let flags = (namespaces | vfork | libc::SIGCHLD) as u64;
            let mut child = || 0;
            // SAFETY: the child only returns 0, which exits: it touches
            // nothing of the parent's, whose memory it shares until then.
            let pid = unsafe { clone(flags, &self.0, &mut child) }.map_err(|e| e.to_string())?;
            nsclone::sys::wait4(pid, 0)
                .map(drop)
                .map_err(|e| e.to_string())
        }
    }
}

/// The article's approach, played by this program with std and libc: the
/// launcher forks a child that unshares a new UTS namespace (as clone with
/// `CLONE_NEWUTS` would) and execs this very program again
/// (`/proc/self/exe`); that second start sets the hostname and execs the
/// command. One more exec and one more program start than nsclone.
mod reexec {
    use std::ffi::OsString;
    use std::io;
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::{Command, exit};

    pub const LAUNCHER: &str = "--reexec-launcher";
    pub const CHILD: &str = "--reexec-child";

    pub fn launcher(command: &[OsString]) -> ! {
        let mut child = Command::new("/proc/self/exe");
        child.arg(CHILD).args(command);
        // SAFETY: between fork and exec, one system call and no allocation.
        unsafe {
            child.pre_exec(|| match libc::unshare(libc::CLONE_NEWUTS) {
                0 => Ok(()),
                _ => Err(io::Error::last_os_error()),
            });
        }
        match child.status() {
            Ok(status) => exit(
                status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
            ),
            Err(error) => {
                eprintln!("reexec: unshare or exec: {error}");
                exit(125)
            }
        }
    }

    pub fn child(command: &[OsString]) -> ! {
        // The host's hostname is never touched: only a process whose UTS
        // namespace differs from its parent's sets one.
        let uts = |path: String| std::fs::metadata(path).map(|m| (m.dev(), m.ino())).ok();
        let parent = std::os::unix::process::parent_id();
        let ours = uts("/proc/self/ns/uts".into());
        if ours.is_none() || ours == uts(format!("/proc/{parent}/ns/uts")) {
            eprintln!("reexec: not in a new UTS namespace: the hostname stays");
            exit(125);
        }
        let name = b"newhostname";
        // SAFETY: the name is valid for its length.
        if unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) } == -1 {
            eprintln!("reexec: sethostname: {}", io::Error::last_os_error());
            exit(125);
        }
        let error = Command::new(&command[0]).args(&command[1..]).exec();
        eprintln!("reexec: exec: {error}");
        exit(if error.kind() == io::ErrorKind::NotFound {
            127
        } else {
            126
        })
    }
}

/// Compile `benches/launch/{source}` with `cc` (or `$CC`), `-O2` and
/// `flags` into `dir/name`: dynamically linked unless the flags say
/// otherwise. `None`, with a note on stderr, if it does not compile.
fn compile(dir: &Path, source: &str, name: &str, flags: &[&str]) -> Option<PathBuf> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/launch")
        .join(source);
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
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease");
    let kernel = kernel.as_deref().map_or("?", str::trim);
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
