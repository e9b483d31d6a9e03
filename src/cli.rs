//! The command line: `nsclone [OPTIONS] [--] [COMMAND [ARG...]]`.
//!
//! Options stop at the first non-option argument, as in util-linux
//! unshare(1): everything after it belongs to the command. Arguments stay
//! bytes (`OsString`), so names that are not UTF-8 pass through unchanged.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use nsclone::namespace::Hostname;
use nsclone::signal;

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
      --kill-child[=SIG]
                       when nsclone dies, even by SIGKILL, the kernel sends
                       SIG to the command (a name such as TERM, or a number;
                       default: KILL)
  -q, --quiet          print nothing but errors
  -h, --help           print this help and exit
  -V, --version        print the version and exit

Everything nsclone prints goes to standard error; standard output is the
command's.

Exit status: the command's. 125 if nsclone itself failed, 126 if COMMAND
was found but cannot be executed, 127 if it was not found. If the command
is killed by signal N, nsclone kills itself with N too (a shell shows 128+N).
";

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
    /// `--kill-child`: the signal the command gets when nsclone dies.
    pub kill_child: Option<i32>,
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
    let mut kill_child = None;
    let mut command = Vec::new();
    while let Some(arg) = parser.next().map_err(one_line)? {
        match arg {
            Short('H') | Long("hostname") => {
                let name = parser.value().map_err(one_line)?.into_vec();
                hostname = Hostname::new(name).map_err(|e| format!("--hostname: {e}"))?;
            }
            Long("show-ns") => show_ns = true,
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
            Short('h') | Long("help") => return Ok(Action::Help),
            Short('V') | Long("version") => return Ok(Action::Version),
            Value(program) => {
                command.push(program);
                command.extend(parser.raw_args().map_err(one_line)?);
            }
            _ => return Err(one_line(arg.unexpected())),
        }
    }
    if command.is_empty() {
        let shell = shell.filter(|s| !s.is_empty());
        command.push(shell.unwrap_or_else(|| DEFAULT_SHELL.into()));
    }
    Ok(Action::Run(Options {
        hostname,
        show_ns,
        quiet,
        kill_child,
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
        assert!(!options.show_ns && !options.quiet);
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
