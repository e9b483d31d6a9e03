//! The command line: `nsclone [OPTIONS] [--] [COMMAND [ARG...]]`.
//!
//! Options stop at the first non-option argument, as in util-linux
//! unshare(1): everything after it belongs to the command. Arguments stay
//! bytes from end to end: the parser ([getargs], which works on byte slices
//! and needs neither std nor a heap) sees the very strings the kernel
//! placed on the launcher's stack, and the command is found by its index
//! among them, so it goes to execve(2) without a copy.
//!
//! The parser records what was typed ([`Options`]); what the options mean
//! together (`--mount-proc` implies `--mount --pid`, `--root` implies
//! `--mount`, what `--vfork` cannot serve) is [`crate::Command`]'s to decide
//! ([`Options::apply`]).
//!
//! [getargs]: https://docs.rs/getargs

use core::cell::Cell;
use core::fmt::{self, Write};

use getargs::{Opt, Options as Parser};

use alloc::vec::Vec;

use crate::Command;
use crate::namespace::join::Target;
use crate::namespace::time::{Clock, ClockOffsets};
use crate::namespace::{Hostname, HostnameError, Namespace, Namespaces};
use crate::signal;
use crate::sys::Pid;
use crate::text::Quoted;

/// The hostname set when none is given, as in the article nsclone grew from.
pub const DEFAULT_HOSTNAME: &str = "newhostname";

/// The shell run when no command is given and `$SHELL` is unset or empty.
pub const DEFAULT_SHELL: &core::ffi::CStr = c"/bin/sh";

/// The text of `--help`.
pub const HELP: &str = "\
nsclone: run a command in new namespaces, one raw system call at a time

Usage: nsclone [OPTIONS] [--] [COMMAND [ARG...]]

Runs COMMAND (default: $SHELL, else /bin/sh) in a new UTS namespace with its
own hostname, and in the other new namespaces asked for, through a raw
clone(2) on a stack that nsclone maps itself. The host is left unchanged.

Namespaces (a new UTS namespace is always made):
  -i, --ipc            System V IPC objects and POSIX message queues
  -m, --mount          mounts; / is made recursively private first
  -n, --net            network; lo is brought up inside
  -p, --pid            process ids; the command is PID 1
  -U, --user           user ids; your uid and gid are 0 (root) inside,
                       which lets a non-root user create all the others
  -C, --cgroup         the cgroup root
  -T, --time           the monotonic and boot-time clocks
  -u, --uts            the hostname (always on; accepted for unshare(1) users)
      --mount-proc     mount a fresh /proc for the new PID namespace
                       (implies --mount --pid)
      --root DIR       make DIR the root (/) of the new mount namespace
                       with pivot_root(2), the old root detached, and run
                       COMMAND from there (implies --mount; with --pid, a
                       fresh /proc is mounted in DIR/proc)
      --monotonic SECS add SECS to CLOCK_MONOTONIC inside (implies --time)
      --boottime SECS  add SECS to CLOCK_BOOTTIME and uptime (implies --time)

Existing namespaces:
      --join PID|DIR   run the command in the namespaces of process PID, or
                       in those kept in DIR, joined with setns(2), but the
                       types asked anew; the UTS namespace too, whose
                       hostname is then left alone (unless -H or -u asks for
                       a new one); with a mount namespace the command starts
                       at its /, and with a PID namespace it is not PID 1
      --keep DIR       keep the new namespaces alive after the command:
                       bind-mount each /proc/PID/ns/TYPE on DIR/TYPE (needs
                       root); --join DIR enters them
      --unkeep DIR     release the namespaces kept in DIR: unmount and
                       remove DIR/TYPE, and exit (the last reference gone,
                       the kernel frees each namespace)

Options:
  -H, --hostname NAME  hostname in the new namespace, 1 to 64 bytes
                       (default: newhostname)
      --show-ns[=VIEW] print the launcher's and the child's namespaces, the
                       user namespace owning each, the parents of PID and
                       user namespaces, the command's pid in each PID
                       namespace; VIEW: table (default: side by side, those
                       that differ marked) or tree (by owner, as lsns --tree)
      --trace          print every system call of the launch as it is made,
                       decoded, with its result and why (launcher and child)
      --kill-child[=SIG]
                       when nsclone dies, even by SIGKILL, the kernel sends
                       SIG to the command (a name such as TERM, or a number;
                       default: KILL)
  -q, --quiet          print nothing but errors
      --vfork          share nsclone's memory with the child until it execs
                       (CLONE_VM|CLONE_VFORK, as posix_spawn does): faster,
                       but nsclone sleeps until then, so it cannot serve
                       --show-ns or --user, and \"running ... as pid N\"
                       comes after the exec
  -h, --help           print this help and exit
  -V, --version        print the version and exit

Without root, every namespace needs --user (where the kernel allows
unprivileged user namespaces). With --pid the command is PID 1, which
ignores signals it has no handler for: SIGTERM sent to nsclone is forwarded
and may do nothing.

Everything nsclone prints goes to standard error; standard output is the
command's.

Exit status: the command's. 125 if nsclone itself failed, 126 if COMMAND
was found but cannot be executed, 127 if it was not found. If the command
is killed by signal N, nsclone kills itself with N too (a shell shows 128+N).
";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
// Parsed once, kept on the stack: no heap for the sake of a smaller enum.
#[allow(clippy::large_enum_variant)]
pub enum Action<'a> {
    /// Run a command.
    Run(Options<'a>),
    /// Print the help.
    Help,
    /// Print the version.
    Version,
}

/// How to run the command, as typed.
#[derive(Debug, PartialEq, Eq)]
pub struct Options<'a> {
    /// `--hostname`, or the default.
    pub hostname: Hostname,
    /// The namespace options typed (`-i`, `--net`...), and UTS, always.
    pub namespaces: Namespaces,
    /// `--mount-proc`.
    pub mount_proc: bool,
    /// `--root`: the directory, as typed.
    pub root: Option<&'a [u8]>,
    /// `--monotonic`, `--boottime`.
    pub clock_offsets: ClockOffsets,
    /// `--show-ns`, and which view.
    pub show_ns: Option<ShowNs>,
    /// `--trace`.
    pub trace: bool,
    /// `--quiet`.
    pub quiet: bool,
    /// `--kill-child`: the signal the command gets when nsclone dies.
    pub kill_child: Option<i32>,
    /// `--vfork`.
    pub vfork: bool,
    /// `--join`: a process's namespaces, or a directory's.
    pub join: Option<Target>,
    /// `--keep DIR`.
    pub keep: Option<Vec<u8>>,
    /// `--unkeep DIR`: release instead of running a command.
    pub unkeep: Option<Vec<u8>>,
    /// Whether `-u`/`--uts` or `-H`/`--hostname` was typed: with `--join`,
    /// that asks for a new UTS namespace instead of a joined one.
    pub uts_typed: bool,
    /// Where the command starts among the arguments; `None` when none was
    /// given (then the shell runs).
    pub command: Option<usize>,
}

impl Options<'_> {
    /// Apply the options to `command`, which decides what they imply.
    pub fn apply(&self, command: &mut Command) {
        command.vfork(self.vfork);
        // Joined, the UTS namespace is the target's, unless asked anew.
        if self.join.is_none() || self.uts_typed {
            command.hostname(self.hostname);
        }
        match &self.join {
            Some(Target::Pid(pid)) => command.join_pid(*pid),
            Some(Target::Dir(dir)) => command.join_dir(dir),
            None => command,
        };
        if let Some(dir) = &self.keep {
            command.keep(dir);
        }
        for ns in self.namespaces.iter() {
            command.namespace(ns);
        }
        if self.mount_proc {
            command.mount_proc();
        }
        if let Some(dir) = self.root {
            command.root(dir);
        }
        if !self.clock_offsets.is_empty() {
            command.clock_offsets(self.clock_offsets);
        }
        if let Some(sig) = self.kill_child {
            command.parent_death_signal(sig);
        }
    }
}

/// How `--show-ns` draws the namespaces (see [`crate::show`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowNs {
    /// `--show-ns`, `--show-ns=table`: the links side by side.
    Table,
    /// `--show-ns=tree`: by owner, as `lsns --tree` draws them.
    Tree,
}

/// A command line that does not parse. Displayed as one line: control
/// characters that came from the arguments are shown escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CliError<'a> {
    /// An option nsclone does not have.
    Unknown(Opt<&'a [u8]>),
    /// An option whose value is missing.
    Missing(Opt<&'a [u8]>),
    /// A value given to an option that takes none (`--quiet=yes`).
    Unexpected(&'a [u8], &'a [u8]),
    /// A hostname the kernel would refuse.
    Hostname(HostnameError),
    /// `--kill-child=` with no signal.
    Signal(&'a [u8]),
    /// `--show-ns=` with a view that is not `table` or `tree`.
    View(&'a [u8]),
    /// A clock offset that is not a whole number of seconds.
    Seconds(Clock, &'a [u8]),
    /// An option given twice that must be given once.
    Twice(&'static str),
    /// `--join` with an empty value, or pid 0.
    Join(&'a [u8]),
}

/// Bytes shown on one line: text as it is, invalid UTF-8 as U+FFFD, control
/// characters escaped (`\n`).
struct OneLine<'a>(&'a [u8]);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                match c.is_control() {
                    true => write!(f, "{}", c.escape_default())?,
                    false => f.write_char(c)?,
                }
            }
            if !chunk.invalid().is_empty() {
                f.write_char(char::REPLACEMENT_CHARACTER)?;
            }
        }
        Ok(())
    }
}

/// An option as typed: `--name` or `-x`.
struct Shown<'a>(Opt<&'a [u8]>);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Opt::Long(name) => write!(f, "--{}", OneLine(name)),
            Opt::Short(byte) => write!(f, "-{}", OneLine(&[byte])),
        }
    }
}

impl fmt::Display for CliError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CliError::Unknown(opt) => write!(f, "invalid option '{}'", Shown(opt)),
            CliError::Missing(opt) => write!(f, "missing argument for option '{}'", Shown(opt)),
            CliError::Unexpected(name, value) => write!(
                f,
                "unexpected argument for option '--{}': {}",
                OneLine(name),
                Quoted(value)
            ),
            CliError::Hostname(e) => write!(f, "--hostname: {e}"),
            CliError::Signal(value) => write!(
                f,
                "--kill-child: {} is not a signal (a name such as TERM, or a number from 1 to 64)",
                Quoted(value)
            ),
            CliError::View(value) => write!(
                f,
                "--show-ns: {} is not a view (table or tree)",
                Quoted(value)
            ),
            CliError::Seconds(clock, value) => write!(
                f,
                "--{}: {} is not a whole number of seconds",
                clock.name(),
                Quoted(value)
            ),
            CliError::Twice(option) => write!(f, "--{option} may be given once"),
            CliError::Join(value) => write!(
                f,
                "--join: {} is neither a pid (from 1) nor a directory",
                Quoted(value)
            ),
        }
    }
}

/// Parse the arguments after the program's name. Makes no system call and
/// allocates nothing.
pub fn parse<'a>(args: impl Iterator<Item = &'a [u8]>) -> Result<Action<'a>, CliError<'a>> {
    // How many arguments the parser has taken, to find the command's index.
    let taken = Cell::new(0);
    let mut parser = Parser::new(args.inspect(|_| taken.set(taken.get() + 1)));
    let mut options = Options {
        hostname: Hostname::new(DEFAULT_HOSTNAME).expect("a valid default"),
        namespaces: Namespaces::EMPTY.with(Namespace::Uts),
        mount_proc: false,
        root: None,
        clock_offsets: ClockOffsets::default(),
        show_ns: None,
        trace: false,
        quiet: false,
        kill_child: None,
        vfork: false,
        join: None,
        keep: None,
        unkeep: None,
        uts_typed: false,
        command: None,
    };
    let missing = |e| match e {
        getargs::Error::RequiresValue(opt) => CliError::Missing(opt),
        getargs::Error::DoesNotRequireValue(opt) => CliError::Unknown(opt),
        _ => CliError::Unknown(Opt::Long(b"?")),
    };
    loop {
        let opt = match parser.next_opt() {
            Ok(Some(opt)) => opt,
            Ok(None) => break,
            // A flag given a value: `--quiet=yes`. Flags are matched below,
            // where their value is taken first; this is a stray one.
            Err(e) => return Err(missing(e)),
        };
        match opt {
            Opt::Short(b'H') | Opt::Long(b"hostname") => {
                let name = parser.value().map_err(missing)?;
                options.hostname = Hostname::new(name).map_err(CliError::Hostname)?;
                options.uts_typed = true;
            }
            Opt::Long(b"join") => {
                let value = parser.value().map_err(missing)?;
                if options.join.is_some() {
                    return Err(CliError::Twice("join"));
                }
                options.join = Some(join_target(value).ok_or(CliError::Join(value))?);
            }
            Opt::Long(b"keep") => {
                let value = parser.value().map_err(missing)?;
                if options.keep.is_some() {
                    return Err(CliError::Twice("keep"));
                }
                options.keep = Some(value.to_vec());
            }
            Opt::Long(b"unkeep") => {
                let value = parser.value().map_err(missing)?;
                if options.unkeep.is_some() {
                    return Err(CliError::Twice("unkeep"));
                }
                options.unkeep = Some(value.to_vec());
            }
            Opt::Long(b"root") => {
                options.root = Some(parser.value().map_err(missing)?);
            }
            Opt::Long(b"monotonic" | b"boottime") => {
                let (clock, offset) = match opt {
                    Opt::Long(b"monotonic") => {
                        (Clock::Monotonic, &mut options.clock_offsets.monotonic)
                    }
                    _ => (Clock::Boottime, &mut options.clock_offsets.boottime),
                };
                let value = parser.value().map_err(missing)?;
                *offset = Some(seconds(value).ok_or(CliError::Seconds(clock, value))?);
            }
            Opt::Long(b"show-ns") => {
                options.show_ns = Some(match parser.value_opt() {
                    None | Some(b"table") => ShowNs::Table,
                    Some(b"tree") => ShowNs::Tree,
                    Some(value) => return Err(CliError::View(value)),
                });
            }
            Opt::Long(b"kill-child") => {
                options.kill_child = Some(match parser.value_opt() {
                    None => libc::SIGKILL,
                    Some(value) => core::str::from_utf8(value)
                        .ok()
                        .and_then(signal::parse)
                        .ok_or(CliError::Signal(value))?,
                });
            }
            opt => {
                // A long flag given a value, `--quiet=yes`; a short flag
                // cannot be given one (`-qx` is `-q -x`).
                let value = match opt {
                    Opt::Long(name) => parser.value_opt().map(|value| (name, value)),
                    Opt::Short(_) => None,
                };
                if let Some((name, value)) = value {
                    return Err(match flag(opt) {
                        Some(_) => CliError::Unexpected(name, value),
                        None => CliError::Unknown(opt),
                    });
                }
                match flag(opt) {
                    Some(Flag::Namespace(kind)) => {
                        options.namespaces = options.namespaces.with(kind);
                        options.uts_typed |= kind == Namespace::Uts;
                    }
                    Some(Flag::Set(set)) => set(&mut options),
                    Some(Flag::Help) => return Ok(Action::Help),
                    Some(Flag::Version) => return Ok(Action::Version),
                    None => return Err(CliError::Unknown(opt)),
                }
            }
        }
    }
    if parser.next_positional().is_some() {
        options.command = Some(taken.get() - 1);
    }
    Ok(Action::Run(options))
}

/// What an option without a value does.
enum Flag {
    /// Asks for a new namespace of this type.
    Namespace(Namespace),
    /// Sets one of the options.
    Set(fn(&mut Options)),
    Help,
    Version,
}

/// The options that take no value, by their short or long name.
fn flag(opt: Opt<&[u8]>) -> Option<Flag> {
    use Namespace::*;
    Some(match opt {
        Opt::Short(b'i') | Opt::Long(b"ipc") => Flag::Namespace(Ipc),
        Opt::Short(b'm') | Opt::Long(b"mount") => Flag::Namespace(Mount),
        Opt::Short(b'n') | Opt::Long(b"net") => Flag::Namespace(Net),
        Opt::Short(b'p') | Opt::Long(b"pid") => Flag::Namespace(Pid),
        Opt::Short(b'U') | Opt::Long(b"user") => Flag::Namespace(User),
        Opt::Short(b'C') | Opt::Long(b"cgroup") => Flag::Namespace(Cgroup),
        Opt::Short(b'T') | Opt::Long(b"time") => Flag::Namespace(Time),
        Opt::Short(b'u') | Opt::Long(b"uts") => Flag::Namespace(Uts),
        Opt::Long(b"mount-proc") => Flag::Set(|o| o.mount_proc = true),
        Opt::Long(b"trace") => Flag::Set(|o| o.trace = true),
        Opt::Short(b'q') | Opt::Long(b"quiet") => Flag::Set(|o| o.quiet = true),
        Opt::Long(b"vfork") => Flag::Set(|o| o.vfork = true),
        Opt::Short(b'h') | Opt::Long(b"help") => Flag::Help,
        Opt::Short(b'V') | Opt::Long(b"version") => Flag::Version,
        _ => return None,
    })
}

/// What `--join` names: a pid if all digits, else a directory.
fn join_target(value: &[u8]) -> Option<Target> {
    if value.is_empty() {
        return None;
    }
    if !value.iter().all(u8::is_ascii_digit) {
        return Some(Target::Dir(value.to_vec()));
    }
    let pid = core::str::from_utf8(value).ok()?.parse::<Pid>().ok()?;
    (pid > 0).then_some(Target::Pid(pid))
}

/// A clock offset: a whole number of seconds, possibly negative.
fn seconds(value: &[u8]) -> Option<i64> {
    core::str::from_utf8(value).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs<'a>(args: &[&'a str]) -> Result<Action<'a>, String> {
        parse(args.iter().map(|a| a.as_bytes())).map_err(|e| e.to_string())
    }

    /// The options, and the command's words.
    fn run<'a>(args: &[&'a str]) -> (Options<'a>, Vec<&'a str>) {
        match parse_strs(args) {
            Ok(Action::Run(options)) => {
                let command = options.command.map_or(vec![], |i| args[i..].to_vec());
                (options, command)
            }
            other => panic!("{args:?} gave {other:?}"),
        }
    }

    /// What the options mean, once a command has applied them.
    fn applied(options: &Options) -> Command {
        let mut command = Command::new("true");
        options.apply(&mut command);
        command
    }

    #[test]
    fn defaults_follow_the_article_and_unshare() {
        let (options, command) = run(&[]);
        assert_eq!(options.hostname.as_bytes(), b"newhostname");
        assert!(
            command.is_empty() && options.command.is_none(),
            "the shell runs"
        );
        assert!(options.show_ns.is_none() && !options.trace && !options.quiet && !options.vfork);
    }

    #[test]
    fn options_stop_at_the_command() {
        let (options, command) = run(&["-q", "-H", "box", "ls", "-l", "--show-ns", "--", "-q"]);
        assert_eq!(options.hostname.as_bytes(), b"box");
        assert!(options.quiet && options.show_ns.is_none());
        assert_eq!(command, ["ls", "-l", "--show-ns", "--", "-q"]);
    }

    #[test]
    fn trace_is_an_option_before_the_command() {
        let (options, command) = run(&["--trace", "-q", "true", "--trace"]);
        assert!(options.trace && options.quiet);
        assert_eq!(command, ["true", "--trace"]);
    }

    #[test]
    fn double_dash_ends_the_options() {
        let (options, command) = run(&["--show-ns", "--", "-x"]);
        assert_eq!(command, ["-x"]);
        assert_eq!(options.show_ns, Some(ShowNs::Table));
        assert!(run(&["--"]).1.is_empty());
    }

    #[test]
    fn hostname_forms() {
        assert_eq!(run(&["--hostname=a", "true"]).0.hostname.as_bytes(), b"a");
        assert_eq!(run(&["-Hb", "true"]).0.hostname.as_bytes(), b"b");
        assert_eq!(
            run(&["--hostname", "c", "true"]).0.hostname.as_bytes(),
            b"c"
        );
    }

    #[test]
    fn bad_hostnames_are_refused() {
        let empty = parse_strs(&["-H", "", "true"]).unwrap_err();
        assert_eq!(empty, "--hostname: a hostname cannot be empty");
        let long = parse_strs(&["-H", &"x".repeat(65), "true"]).unwrap_err();
        assert!(long.contains("at most 64 bytes"), "{long}");
        assert!(matches!(
            parse_strs(&["-H", &"x".repeat(64)]),
            Ok(Action::Run(_))
        ));
    }

    #[test]
    fn unknown_options_and_missing_values_are_errors() {
        assert_eq!(
            parse_strs(&["--frobnicate"]).unwrap_err(),
            "invalid option '--frobnicate'"
        );
        assert_eq!(parse_strs(&["-x"]).unwrap_err(), "invalid option '-x'");
        assert_eq!(parse_strs(&["-qz"]).unwrap_err(), "invalid option '-z'");
        assert_eq!(
            parse_strs(&["--ab\ncd"]).unwrap_err(),
            "invalid option '--ab\\ncd'"
        );
        let missing = parse_strs(&["--hostname"]).unwrap_err();
        assert_eq!(missing, "missing argument for option '--hostname'");
        assert_eq!(
            parse_strs(&["-q", "-H"]).unwrap_err(),
            "missing argument for option '-H'"
        );
        assert_eq!(
            parse_strs(&["--quiet=yes"]).unwrap_err(),
            "unexpected argument for option '--quiet': \"yes\""
        );
        assert!(parse_strs(&["--mount=/x", "true"]).is_err());
    }

    #[test]
    fn vfork_is_refused_where_it_cannot_serve() {
        use crate::error::{Error, Vfork};
        assert!(run(&["--vfork", "-q", "true"]).0.vfork);
        let (options, _) = run(&["--vfork", "--show-ns", "true"]);
        let refused = applied(&options).check(true).unwrap_err();
        assert!(
            matches!(refused, Error::Vfork(Vfork::BeforeExec)),
            "{refused}"
        );
        let (options, _) = run(&["-U", "--vfork", "true"]);
        let refused = applied(&options).check(false).unwrap_err();
        assert!(matches!(refused, Error::Vfork(Vfork::User)), "{refused}");
    }

    #[test]
    fn uts_is_always_on_and_flags_add_namespaces() {
        assert_eq!(
            run(&["true"]).0.namespaces,
            Namespaces::EMPTY.with(Namespace::Uts)
        );
        let (options, _) = run(&["-i", "-m", "-n", "-p", "-U", "-C", "-T", "-u", "true"]);
        for ns in Namespace::ALL {
            assert!(options.namespaces.contains(ns), "{ns}");
        }
        let (long, _) = run(&[
            "--ipc", "--mount", "--net", "--pid", "--user", "--cgroup", "--time", "--uts", "true",
        ]);
        assert_eq!(long.namespaces, options.namespaces);
        assert_eq!(run(&["-ipU", "true"]).0.namespaces.iter().count(), 4);
    }

    #[test]
    fn mount_proc_implies_mount_and_pid() {
        let (options, _) = run(&["--mount-proc", "true"]);
        assert!(options.mount_proc);
        // The parser records what was typed; the command decides the rest.
        assert!(!options.namespaces.contains(Namespace::Mount));
        let ns = applied(&options).namespaces();
        assert!(ns.contains(Namespace::Mount) && ns.contains(Namespace::Pid));
        assert!(!ns.contains(Namespace::Net));
    }

    #[test]
    fn root_takes_a_directory_and_implies_mount() {
        let (options, command) = run(&["--root", "/srv/box", "sh"]);
        assert_eq!(options.root, Some(&b"/srv/box"[..]));
        assert_eq!(command, ["sh"]);
        assert_eq!(run(&["--root=box", "sh"]).0.root, Some(&b"box"[..]));
        assert!(!options.namespaces.contains(Namespace::Mount));
        let ns = applied(&options).namespaces();
        assert!(ns.contains(Namespace::Mount) && !ns.contains(Namespace::Pid));
        assert_eq!(
            parse_strs(&["--root"]).unwrap_err(),
            "missing argument for option '--root'"
        );
        // What cannot be a root is refused before anything is made.
        let (options, _) = run(&["--root", "/proc/self/status", "true"]);
        let refused = applied(&options).check(false).unwrap_err().to_string();
        assert!(
            refused.starts_with("--root \"/proc/self/status\": a regular file, not a directory"),
            "{refused}"
        );
    }

    #[test]
    fn clock_offsets_imply_time() {
        let (options, _) = run(&["--monotonic", "86400", "--boottime=-5", "true"]);
        assert!(applied(&options).namespaces().contains(Namespace::Time));
        assert_eq!(options.clock_offsets.monotonic, Some(86400));
        assert_eq!(options.clock_offsets.boottime, Some(-5));
        let (options, _) = run(&["--boottime", "-7", "true"]);
        assert_eq!(options.clock_offsets.boottime, Some(-7));
        let bad = parse_strs(&["--monotonic", "1.5", "true"]).unwrap_err();
        assert_eq!(bad, "--monotonic: \"1.5\" is not a whole number of seconds");
        assert!(parse_strs(&["--boottime"]).is_err());
    }

    #[test]
    fn kill_child_takes_a_signal_or_defaults_to_kill() {
        assert_eq!(
            run(&["--kill-child", "true"]).0.kill_child,
            Some(libc::SIGKILL)
        );
        assert_eq!(
            run(&["--kill-child=TERM", "true"]).0.kill_child,
            Some(libc::SIGTERM)
        );
        let (options, command) = run(&["--kill-child", "TERM"]);
        assert_eq!(
            (options.kill_child, command),
            (Some(libc::SIGKILL), vec!["TERM"])
        );
        let bad = parse_strs(&["--kill-child=NOSUCH"]).unwrap_err();
        assert!(
            bad.starts_with("--kill-child: \"NOSUCH\" is not a signal"),
            "{bad}"
        );
    }

    #[test]
    fn show_ns_takes_a_view_or_defaults_to_the_table() {
        assert_eq!(run(&["--show-ns", "true"]).0.show_ns, Some(ShowNs::Table));
        assert_eq!(
            run(&["--show-ns=table", "true"]).0.show_ns,
            Some(ShowNs::Table)
        );
        assert_eq!(
            run(&["--show-ns=tree", "true"]).0.show_ns,
            Some(ShowNs::Tree)
        );
        // As with --kill-child, a view is given with `=`: a word after the
        // option is the command.
        let (options, command) = run(&["--show-ns", "tree"]);
        assert_eq!(
            (options.show_ns, command),
            (Some(ShowNs::Table), vec!["tree"])
        );
        assert_eq!(
            parse_strs(&["--show-ns=forest", "true"]).unwrap_err(),
            "--show-ns: \"forest\" is not a view (table or tree)"
        );
        assert_eq!(
            parse_strs(&["--show-ns=", "true"]).unwrap_err(),
            "--show-ns: \"\" is not a view (table or tree)"
        );
    }

    #[test]
    fn join_takes_a_pid_or_a_directory_keep_and_unkeep_a_directory() {
        let (options, command) = run(&["--join", "4242", "true"]);
        assert_eq!(
            (options.join, command),
            (Some(Target::Pid(4242)), vec!["true"])
        );
        let (options, _) = run(&["--join=./42", "--keep", "/k", "true"]);
        assert_eq!(options.join, Some(Target::Dir(b"./42".to_vec())));
        assert_eq!(options.keep, Some(b"/k".to_vec()));
        assert!(!options.uts_typed, "the joined UTS namespace stays");
        assert!(run(&["--join", "1", "-u", "true"]).0.uts_typed);
        assert!(run(&["--join", "1", "-H", "x", "true"]).0.uts_typed);
        assert_eq!(run(&["--unkeep", "/k"]).0.unkeep, Some(b"/k".to_vec()));
        for bad in ["0", ""] {
            let refused = parse_strs(&["--join", bad, "true"]).unwrap_err();
            assert!(refused.contains("is neither a pid"), "{refused}");
        }
        let twice = parse_strs(&["--join", "1", "--join", "2"]).unwrap_err();
        assert_eq!(twice, "--join may be given once");
        assert!(parse_strs(&["--keep"]).is_err());
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse_strs(&["--help", "--bogus"]), Ok(Action::Help));
        assert_eq!(parse_strs(&["-V"]), Ok(Action::Version));
    }

    #[test]
    fn arguments_are_bytes() {
        let odd: &[u8] = &[b'a', 0xff, b'b'];
        let args: [&[u8]; 2] = [b"echo", odd];
        let Ok(Action::Run(options)) = parse(args.into_iter()) else {
            panic!()
        };
        assert_eq!(options.command, Some(0));
        let args: [&[u8]; 2] = [b"-H", odd];
        let Ok(Action::Run(options)) = parse(args.into_iter()) else {
            panic!()
        };
        assert_eq!(options.hostname.as_bytes(), odd);
    }
}
