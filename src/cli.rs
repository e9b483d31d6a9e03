//! The command line: `nsclone [OPTIONS] [--] [COMMAND [ARG...]]`.
//!
//! Options stop at the first non-option argument, as in util-linux
//! unshare(1): everything after it belongs to the command. Arguments stay
//! bytes (`OsString`), so names that are not UTF-8 pass through unchanged.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use nsclone::namespace::time::ClockOffsets;
use nsclone::namespace::{Hostname, Namespace, Namespaces};
use nsclone::signal;

/// The hostname set when none is given, as in the article nsclone grew from.
pub const DEFAULT_HOSTNAME: &str = "newhostname";

/// The shell run when no command is given and `$SHELL` is unset or empty.
pub const DEFAULT_SHELL: &str = "/bin/sh";

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
      --monotonic SECS add SECS to CLOCK_MONOTONIC inside (implies --time)
      --boottime SECS  add SECS to CLOCK_BOOTTIME and uptime (implies --time)

Options:
  -H, --hostname NAME  hostname in the new namespace, 1 to 64 bytes
                       (default: newhostname)
      --show-ns        print the parent's and the child's /proc/PID/ns links
                       side by side, marking those that differ
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

/// The refusal of `--vfork --show-ns`.
pub const VFORK_SHOW_NS: &str = "--vfork cannot serve --show-ns: nsclone sleeps until the \
     command has exec'd, too late to show the child's namespaces before it runs";

/// The refusal of `--vfork --user`.
pub const VFORK_USER: &str = "--vfork cannot serve --user: nsclone sleeps until the command \
     has exec'd, too late to write the child's uid and gid maps";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Run a command.
    Run(Options),
    /// Print the help.
    Help,
    /// Print the version.
    Version,
}

/// How to run the command.
#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    pub hostname: Hostname,
    /// The new namespaces, UTS included.
    pub namespaces: Namespaces,
    pub mount_proc: bool,
    pub clock_offsets: ClockOffsets,
    pub show_ns: bool,
    pub trace: bool,
    pub quiet: bool,
    /// `--kill-child`: the signal the command gets when nsclone dies.
    pub kill_child: Option<i32>,
    pub vfork: bool,
    /// The program and its arguments; never empty.
    pub command: Vec<OsString>,
}

/// Parse the arguments after the program's name. `shell` is `$SHELL`, the
/// command when none is given. Errors are one line.
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    shell: Option<OsString>,
) -> Result<Action, String> {
    use lexopt::prelude::*;

    let mut parser = lexopt::Parser::from_args(args);
    let mut hostname = Hostname::new(DEFAULT_HOSTNAME).expect("valid default");
    let mut namespaces = Namespaces::EMPTY.with(Namespace::Uts);
    let mut mount_proc = false;
    let mut clock_offsets = ClockOffsets::default();
    let mut show_ns = false;
    let mut trace = false;
    let mut quiet = false;
    let mut kill_child = None;
    let mut vfork = false;
    let mut command = Vec::new();
    while let Some(arg) = parser.next().map_err(one_line)? {
        match arg {
            Short('H') | Long("hostname") => {
                let name = parser.value().map_err(one_line)?.into_vec();
                hostname = Hostname::new(name).map_err(|e| format!("--hostname: {e}"))?;
            }
            Short('i') | Long("ipc") => namespaces = namespaces.with(Namespace::Ipc),
            Short('m') | Long("mount") => namespaces = namespaces.with(Namespace::Mount),
            Short('n') | Long("net") => namespaces = namespaces.with(Namespace::Net),
            Short('p') | Long("pid") => namespaces = namespaces.with(Namespace::Pid),
            Short('U') | Long("user") => namespaces = namespaces.with(Namespace::User),
            Short('C') | Long("cgroup") => namespaces = namespaces.with(Namespace::Cgroup),
            Short('T') | Long("time") => namespaces = namespaces.with(Namespace::Time),
            Short('u') | Long("uts") => {}
            Long("mount-proc") => {
                mount_proc = true;
                namespaces = namespaces.with(Namespace::Mount).with(Namespace::Pid);
            }
            Long(clock @ ("monotonic" | "boottime")) => {
                let clock = clock.to_owned();
                let value = parser.value().map_err(one_line)?;
                let secs = seconds(&value).map_err(|e| format!("--{clock}: {e}"))?;
                match clock.as_str() {
                    "monotonic" => clock_offsets.monotonic = Some(secs),
                    _ => clock_offsets.boottime = Some(secs),
                }
                namespaces = namespaces.with(Namespace::Time);
            }
            Long("show-ns") => show_ns = true,
            Long("trace") => trace = true,
            Long("kill-child") => {
                kill_child = Some(match parser.optional_value() {
                    None => libc::SIGKILL,
                    Some(sig) => sig.to_str().and_then(signal::parse).ok_or_else(|| {
                        one_line(format!(
                            "--kill-child: {sig:?} is not a signal \
                                 (a name such as TERM, or a number from 1 to 64)"
                        ))
                    })?,
                });
            }
            Short('q') | Long("quiet") => quiet = true,
            Long("vfork") => vfork = true,
            Short('h') | Long("help") => return Ok(Action::Help),
            Short('V') | Long("version") => return Ok(Action::Version),
            Value(program) => {
                command.push(program);
                command.extend(parser.raw_args().map_err(one_line)?);
            }
            _ => return Err(one_line(arg.unexpected())),
        }
    }
    // The launcher is asleep from clone until the command has exec'd: too
    // late to read the child's namespaces, or to write its id maps.
    if vfork && show_ns {
        return Err(VFORK_SHOW_NS.into());
    }
    if vfork && namespaces.contains(Namespace::User) {
        return Err(VFORK_USER.into());
    }
    if command.is_empty() {
        let shell = shell.filter(|s| !s.is_empty());
        command.push(shell.unwrap_or_else(|| DEFAULT_SHELL.into()));
    }
    Ok(Action::Run(Options {
        hostname,
        namespaces,
        mount_proc,
        clock_offsets,
        show_ns,
        trace,
        quiet,
        kill_child,
        vfork,
        command,
    }))
}

/// An error message on one line: control characters that came from the
/// arguments (a newline in an option's name) are shown escaped.
fn one_line(error: impl ToString) -> String {
    let mut line = String::new();
    for c in error.to_string().chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line
}

/// A clock offset: a whole number of seconds, possibly negative.
fn seconds(value: &OsString) -> Result<i64, String> {
    let text = value.to_string_lossy();
    text.parse::<i64>()
        .map_err(|_| format!("{text:?} is not a whole number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Action, String> {
        parse(args.iter().map(OsString::from), Some("/bin/bash".into()))
    }

    fn run(args: &[&str]) -> Options {
        match parse_strs(args) {
            Ok(Action::Run(options)) => options,
            other => panic!("{args:?} gave {other:?}"),
        }
    }

    #[test]
    fn defaults_follow_the_article_and_unshare() {
        let options = run(&[]);
        assert_eq!(options.hostname.as_bytes(), b"newhostname");
        assert_eq!(options.command, ["/bin/bash"]);
        assert!(!options.show_ns && !options.trace && !options.quiet && !options.vfork);
    }

    #[test]
    fn shell_falls_back_to_bin_sh() {
        for shell in [None, Some(OsString::new())] {
            let Ok(Action::Run(options)) = parse(Vec::new(), shell) else {
                panic!()
            };
            assert_eq!(options.command, ["/bin/sh"]);
        }
    }

    #[test]
    fn options_stop_at_the_command() {
        let options = run(&["-q", "-H", "box", "ls", "-l", "--show-ns", "--", "-q"]);
        assert_eq!(options.hostname.as_bytes(), b"box");
        assert!(options.quiet && !options.show_ns);
        assert_eq!(options.command, ["ls", "-l", "--show-ns", "--", "-q"]);
    }

    #[test]
    fn trace_is_an_option_before_the_command() {
        let options = run(&["--trace", "-q", "true", "--trace"]);
        assert!(options.trace && options.quiet);
        assert_eq!(options.command, ["true", "--trace"]);
    }

    #[test]
    fn double_dash_ends_the_options() {
        assert_eq!(run(&["--show-ns", "--", "-x"]).command, ["-x"]);
        assert!(run(&["--show-ns", "--", "-x"]).show_ns);
    }

    #[test]
    fn hostname_forms() {
        assert_eq!(run(&["--hostname=a", "true"]).hostname.as_bytes(), b"a");
        assert_eq!(run(&["-Hb", "true"]).hostname.as_bytes(), b"b");
        assert_eq!(run(&["--hostname", "c", "true"]).hostname.as_bytes(), b"c");
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
        let missing = parse_strs(&["--hostname"]).unwrap_err();
        assert_eq!(missing, "missing argument for option '--hostname'");
        assert!(parse_strs(&["--quiet=yes"]).is_err());
    }

    #[test]
    fn vfork_is_refused_where_it_cannot_serve() {
        assert!(run(&["--vfork", "-q", "true"]).vfork);
        assert!(run(&["--vfork", "true"]).vfork);
        let refused = parse_strs(&["--vfork", "--show-ns", "true"]).unwrap_err();
        assert_eq!(refused, VFORK_SHOW_NS);
        assert_eq!(parse_strs(&["--show-ns", "--vfork"]).unwrap_err(), refused);
        assert_eq!(
            parse_strs(&["-U", "--vfork", "true"]).unwrap_err(),
            VFORK_USER
        );
        let served = run(&["--vfork", "-pmniCT", "--mount-proc", "--kill-child", "true"]);
        assert!(served.vfork && served.namespaces.contains(Namespace::Time));
    }

    #[test]
    fn uts_is_always_on_and_flags_add_namespaces() {
        assert_eq!(
            run(&["true"]).namespaces,
            Namespaces::EMPTY.with(Namespace::Uts)
        );
        let options = run(&["-i", "-m", "-n", "-p", "-U", "-C", "-T", "-u", "true"]);
        for ns in Namespace::ALL {
            assert!(options.namespaces.contains(ns), "{ns}");
        }
        let long = run(&[
            "--ipc", "--mount", "--net", "--pid", "--user", "--cgroup", "--time", "--uts", "true",
        ]);
        assert_eq!(long.namespaces, options.namespaces);
        assert_eq!(run(&["-ipU", "true"]).namespaces.iter().count(), 4);
    }

    #[test]
    fn mount_proc_implies_mount_and_pid() {
        let options = run(&["--mount-proc", "true"]);
        assert!(options.mount_proc);
        assert!(options.namespaces.contains(Namespace::Mount));
        assert!(options.namespaces.contains(Namespace::Pid));
        assert!(!options.namespaces.contains(Namespace::Net));
    }

    #[test]
    fn clock_offsets_imply_time() {
        let options = run(&["--monotonic", "86400", "--boottime=-5", "true"]);
        assert!(options.namespaces.contains(Namespace::Time));
        assert_eq!(options.clock_offsets.monotonic, Some(86400));
        assert_eq!(options.clock_offsets.boottime, Some(-5));
        assert_eq!(
            run(&["--boottime", "-7", "true"]).clock_offsets.boottime,
            Some(-7)
        );
        let bad = parse_strs(&["--monotonic", "1.5", "true"]).unwrap_err();
        assert_eq!(bad, "--monotonic: \"1.5\" is not a whole number of seconds");
        assert!(parse_strs(&["--boottime"]).is_err());
        assert!(parse_strs(&["--mount=/x", "true"]).is_err());
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse_strs(&["--help", "--bogus"]), Ok(Action::Help));
        assert_eq!(parse_strs(&["-V"]), Ok(Action::Version));
    }

    #[test]
    fn arguments_are_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let odd = OsString::from_vec(vec![b'a', 0xff, b'b']);
        let Ok(Action::Run(options)) = parse([OsString::from("echo"), odd.clone()], None) else {
            panic!()
        };
        assert_eq!(options.command[1].as_bytes(), odd.as_bytes());
        let Ok(Action::Run(options)) = parse([OsString::from("-H"), odd.clone()], None) else {
            panic!()
        };
        assert_eq!(options.hostname.as_bytes(), odd.as_bytes());
    }
}
