//! The command line: `nsclone [OPTIONS] [--] [COMMAND [ARG...]]`.
//!
//! Options stop at the first non-option argument, as in util-linux
//! unshare(1): everything after it belongs to the command. Arguments stay
//! bytes (`OsString`), so names that are not UTF-8 pass through unchanged.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use nsclone::namespace::Hostname;

/// The hostname set when none is given, as in the article nsclone grew from.
pub const DEFAULT_HOSTNAME: &str = "newhostname";

/// The shell run when no command is given and `$SHELL` is unset or empty.
pub const DEFAULT_SHELL: &str = "/bin/sh";

pub const HELP: &str = "\
nsclone: run a command in a new UTS namespace, one raw system call at a time

Usage: nsclone [OPTIONS] [--] [COMMAND [ARG...]]

Runs COMMAND (default: $SHELL, else /bin/sh) in a new UTS namespace with its
own hostname, through clone(CLONE_NEWUTS) on a stack that nsclone maps itself.
The host's hostname does not change.

Options:
  -H, --hostname NAME  hostname in the new namespace, 1 to 64 bytes
                       (default: newhostname)
      --show-ns        print the parent's and the child's /proc/PID/ns links
                       side by side, marking those that differ
  -q, --quiet          print nothing but errors
      --vfork          share nsclone's memory with the child until it execs
                       (CLONE_VM|CLONE_VFORK, as posix_spawn does): faster,
                       but nsclone sleeps until then, so it cannot serve
                       --show-ns, and \"running ... as pid N\" comes after
                       the exec
  -h, --help           print this help and exit
  -V, --version        print the version and exit

Everything nsclone prints goes to standard error; standard output is the
command's.

Exit status: the command's. 125 if nsclone itself failed, 126 if COMMAND
was found but cannot be executed, 127 if it was not found. If the command
is killed by signal N, nsclone kills itself with N too (a shell shows 128+N).
";

/// The refusal of `--vfork --show-ns`.
pub const VFORK_SHOW_NS: &str = "--vfork cannot serve --show-ns: nsclone sleeps until the \
     command has exec'd, too late to show the child's namespaces before it runs";

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
    pub show_ns: bool,
    pub quiet: bool,
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
    let mut show_ns = false;
    let mut quiet = false;
    let mut vfork = false;
    let mut command = Vec::new();
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('H') | Long("hostname") => {
                let name = parser.value().map_err(|e| e.to_string())?.into_vec();
                hostname = Hostname::new(name).map_err(|e| format!("--hostname: {e}"))?;
            }
            Long("show-ns") => show_ns = true,
            Short('q') | Long("quiet") => quiet = true,
            Long("vfork") => vfork = true,
            Short('h') | Long("help") => return Ok(Action::Help),
            Short('V') | Long("version") => return Ok(Action::Version),
            Value(program) => {
                command.push(program);
                command.extend(parser.raw_args().map_err(|e| e.to_string())?);
            }
            _ => return Err(arg.unexpected().to_string()),
        }
    }
    if vfork && show_ns {
        // The launcher is asleep from clone until the command has exec'd:
        // too late to read the child's namespaces before the command runs.
        return Err(VFORK_SHOW_NS.into());
    }
    if command.is_empty() {
        let shell = shell.filter(|s| !s.is_empty());
        command.push(shell.unwrap_or_else(|| DEFAULT_SHELL.into()));
    }
    Ok(Action::Run(Options {
        hostname,
        show_ns,
        quiet,
        vfork,
        command,
    }))
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
        assert!(!options.show_ns && !options.quiet && !options.vfork);
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
