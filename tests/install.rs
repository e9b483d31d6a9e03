//! nsclone installs like its peers. `make install` puts the binary, the
//! manual page and a completion for each shell where the system looks for
//! them, `make uninstall` takes exactly those away, and `cargo install`
//! gives a working binary.
//!
//! The manual page and the completions are written by hand, so they are
//! checked against the one list that cannot be wrong, the options that
//! `nsclone --help` prints: an option added there fails these tests until
//! the manual page and the three completions know it. The completions are
//! driven for real, each in its shell: bash through its completion function
//! with the COMP_* variables set as readline sets them, zsh at a
//! pseudo-terminal (zpty) with a real Tab, fish with `complete -C`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;
use common::{Host, privileged, release_binary, repo, skip};

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap()
}

const MAN_PAGE: &str = "man/nsclone.1";
const BASH: &str = "completions/nsclone.bash";
const ZSH: &str = "completions/_nsclone";
const FISH: &str = "completions/nsclone.fish";

/// What follows an option on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Takes {
    Nothing,
    /// A value in the next word (or after `=`): `--hostname NAME`.
    Value,
    /// A directory, in the next word (or after `=`): `--root DIR`.
    Directory,
    /// A value after `=` only: `--kill-child[=SIG]`.
    OptionalValue,
}

/// An option as `nsclone --help` lists it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Opt {
    short: Option<char>,
    long: String,
    takes: Takes,
}

/// The options `nsclone --help` lists, read from its option lines: two to
/// six blanks, then `-X, --long`, `--long VALUE` or `--long[=VALUE]` (the
/// description's continuation lines are indented further).
fn help_options() -> Vec<Opt> {
    let output = common::run(&["--help"]);
    assert!(output.status.success());
    let mut options = Vec::new();
    for line in common::stdout(&output).lines() {
        let indent = line.len() - line.trim_start().len();
        if !(2..=6).contains(&indent) || !line.trim_start().starts_with('-') {
            continue;
        }
        let (mut short, mut long, mut takes) = (None, None, Takes::Nothing);
        for word in line.split_whitespace() {
            let word = word.trim_end_matches(',');
            if let Some(name) = word.strip_prefix("--") {
                long = Some(match name.split_once("[=") {
                    Some((name, _)) => {
                        takes = Takes::OptionalValue;
                        name
                    }
                    None => name,
                });
            } else if let Some(letter) = word.strip_prefix('-') {
                assert_eq!(letter.len(), 1, "{line:?}");
                short = letter.chars().next();
            } else if long.is_some() && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'|') {
                takes = match word.contains("DIR") {
                    true => Takes::Directory,
                    false => Takes::Value,
                };
            } else {
                break;
            }
        }
        let long = long.unwrap_or_else(|| panic!("no long option in {line:?}"));
        options.push(Opt {
            short,
            long: format!("--{long}"),
            takes,
        });
    }
    // What this reader must find, or it reads nothing and proves nothing.
    let hostname = Opt {
        short: Some('H'),
        long: "--hostname".into(),
        takes: Takes::Value,
    };
    assert!(
        options.len() >= 15 && options.contains(&hostname),
        "{options:?}"
    );
    options
}

/// Every option's spellings, short and long, as a shell offers them.
fn spellings(options: &[Opt]) -> BTreeSet<String> {
    options
        .iter()
        .flat_map(|o| [o.short.map(|c| format!("-{c}")), Some(o.long.clone())])
        .flatten()
        .collect()
}

/// The long options named anywhere in `text` (`--name`, not a bare `--`).
fn long_options_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("--") {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-') {
            continue;
        }
        let name: String = text[at + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if name.starts_with(|c: char| c.is_ascii_lowercase()) {
            names.insert(format!("--{name}"));
        }
    }
    names
}

/// The manual page's source with roff's escapes for the hyphen, fonts,
/// quotes and hyphenation removed: `\fB\-\-ipc\fR` reads `--ipc`.
fn man_text() -> String {
    let mut text = read(MAN_PAGE).replace("\\-", "-");
    for escape in ["\\fB", "\\fI", "\\fR", "\\fP", "\\%", "\\&", "\""] {
        text = text.replace(escape, "");
    }
    text
}

/// The options the manual page documents: the heading line after each `.TP`
/// of the OPTIONS section (`.BR -H ", " --hostname " name"`).
fn man_options() -> Vec<Opt> {
    let text = man_text();
    let section = text
        .split("\n.SH ")
        .find(|s| s.starts_with("OPTIONS"))
        .expect("an OPTIONS section");
    let mut options = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if line != ".TP" {
            continue;
        }
        let heading = lines.next().unwrap();
        let mut words = heading.split_whitespace().skip(1).filter(|w| *w != ",");
        let mut short = None;
        let mut first = words.next().unwrap();
        if !first.starts_with("--") {
            short = first.strip_prefix('-').and_then(|c| c.chars().next());
            first = words.next().unwrap();
        }
        let takes = match words.next() {
            None => Takes::Nothing,
            Some(w) if w.starts_with('[') => Takes::OptionalValue,
            Some(w) if w.contains("dir") => Takes::Directory,
            Some(_) => Takes::Value,
        };
        options.push(Opt {
            short,
            long: first.to_owned(),
            takes,
        });
    }
    options
}

#[test]
fn the_manual_page_documents_exactly_the_options_of_help() {
    let mut help = help_options();
    let mut man = man_options();
    help.sort();
    man.sort();
    assert_eq!(
        man, help,
        "the OPTIONS of {MAN_PAGE} (left) and `nsclone --help` (right) differ"
    );
}

#[test]
fn every_option_the_manual_page_and_the_completions_name_exists() {
    let known: BTreeSet<String> = help_options().into_iter().map(|o| o.long).collect();
    for file in [MAN_PAGE, BASH, ZSH, FISH] {
        let text = if file == MAN_PAGE {
            man_text()
        } else {
            read(file)
        };
        let named = match file {
            // fish's own options (complete --do-complete) are in the file
            // too; nsclone's are on its complete lines, without their
            // dashes (-l ipc), and in the list of those taking a value.
            FISH => text
                .lines()
                .filter(|l| l.starts_with("complete -c nsclone") || l.contains("case '"))
                .flat_map(|l| long_options_in(&l.replace(" -l ", " --")))
                .collect(),
            _ => long_options_in(&text),
        };
        let unknown: Vec<_> = named.difference(&known).collect();
        assert!(
            unknown.is_empty(),
            "{file} names {unknown:?}, which --help does not list"
        );
        let missing: Vec<_> = known.difference(&named).collect();
        assert!(missing.is_empty(), "{file} does not name {missing:?}");
    }
}

/// What `nsclone --version` prints: the version in Cargo.toml.
const VERSION: &str = concat!("nsclone ", env!("CARGO_PKG_VERSION"), "\n");

/// Panic unless `binary --version` prints [`VERSION`].
fn assert_version(binary: &Path) {
    let out = Command::new(binary).arg("--version").output().unwrap();
    assert_eq!(
        common::stdout(&out),
        VERSION,
        "{} --version",
        binary.display()
    );
}

#[test]
fn the_manual_page_names_the_version_of_the_binary() {
    assert_version(Path::new(env!("CARGO_BIN_EXE_nsclone")));
    let th = read(MAN_PAGE)
        .lines()
        .find(|l| l.starts_with(".TH "))
        .unwrap()
        .to_owned();
    assert!(th.contains(&format!("\"{}\"", VERSION.trim())), "{th}");
}

/// Whether `tool` can be run here (found on PATH); if not, say so loudly.
fn have(test: &str, tool: &str, package: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    found
        || skip(
            test,
            &format!("{tool} is not installed (apt-get install {package})"),
        )
}

#[test]
fn the_manual_page_renders_without_warnings() {
    let test = "the_manual_page_renders_without_warnings";
    let page = repo().join(MAN_PAGE);
    if have(test, "mandoc", "mandoc") {
        let lint = Command::new("mandoc")
            .args(["-T", "lint", "-W", "warning"])
            .arg(&page)
            .output()
            .unwrap();
        let said = format!("{}{}", common::stdout(&lint), common::stderr(&lint));
        assert!(
            lint.status.success() && said.is_empty(),
            "mandoc -T lint:\n{said}"
        );
    }
    if have(test, "groff", "groff-base") {
        let lint = Command::new("groff")
            .args(["-ww", "-z", "-man"])
            .arg(&page)
            .output()
            .unwrap();
        let said = common::stderr(&lint);
        assert!(
            lint.status.success() && said.is_empty(),
            "groff -ww:\n{said}"
        );
    }
}

/// Panic unless `shell -n` reads the completion `file` without a syntax
/// error.
fn assert_parses(shell: &str, file: &str) {
    let check = Command::new(shell)
        .arg("-n")
        .arg(repo().join(file))
        .output()
        .unwrap();
    assert!(check.status.success(), "{shell} -n {file}: {check:?}");
}

/// A shell that completes nsclone's command lines: the candidates it offers
/// for the last word of `line` (which may be empty, after a blank).
trait Shell {
    fn complete(&self, line: &str) -> Vec<String>;
}

/// A directory to complete in: a file, `notes.txt`, that the command's
/// arguments may name, and a directory, `sub`, for options that take one.
fn workdir() -> tempfile::TempDir {
    let dir = common::tempdir();
    std::fs::write(dir.path().join("notes.txt"), "").unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    dir
}

/// What every shell must do for nsclone, as `nsclone --help` describes it.
fn check_completions(shell: &dyn Shell, name: &str) {
    let options = help_options();
    let offered = |line: &str| shell.complete(line).into_iter().collect::<BTreeSet<_>>();

    // Every option, and nothing else; an option whose value follows `=` may
    // also be offered with its `=`.
    let all = offered("nsclone -");
    let with_equals: BTreeSet<String> = options
        .iter()
        .filter(|o| o.takes == Takes::OptionalValue)
        .map(|o| format!("{}=", o.long))
        .collect();
    let plain: BTreeSet<String> = all.difference(&with_equals).cloned().collect();
    assert_eq!(plain, spellings(&options), "{name}: nsclone -<Tab>");

    assert_eq!(shell.complete("nsclone --ho"), ["--hostname"], "{name}");

    let signals = kill_child_signals(shell);
    for wanted in ["TERM", "KILL"] {
        assert!(
            signals.contains(wanted),
            "{name}: {wanted} not in {signals:?}"
        );
    }

    // After an option that takes a value, the next word is that value, not
    // the command: options are still offered after it, and no command names
    // are offered for it; a directory, if it is one.
    for option in options
        .iter()
        .filter(|o| matches!(o.takes, Takes::Value | Takes::Directory))
    {
        let spellings = [
            option.short.map(|c| format!("-{c}")),
            Some(option.long.clone()),
        ];
        for spelling in spellings.iter().flatten() {
            let after = offered(&format!("nsclone {spelling} 5 --i"));
            assert!(
                after.contains("--ipc"),
                "{name}: nsclone {spelling} 5 --i<Tab>: {after:?}"
            );
            let value = offered(&format!("nsclone {spelling} "));
            assert!(
                !value.contains("ls"),
                "{name}: nsclone {spelling} <Tab>: {value:?}"
            );
            let dirs: BTreeSet<_> = value.iter().map(|v| v.trim_end_matches('/')).collect();
            match option.takes {
                Takes::Directory => assert_eq!(dirs, ["sub"].into(), "{name}: {spelling}"),
                _ => assert!(
                    dirs.is_empty(),
                    "{name}: nsclone {spelling} <Tab>: {value:?}"
                ),
            }
        }
    }
    // Grouped short options: the last one takes the next word.
    assert!(
        offered("nsclone -qH box --i").contains("--ipc"),
        "{name}: -qH"
    );

    // The first word that is not an option is the command; after it, or
    // after --, nsclone's options are over and the command's words begin.
    for line in [
        "nsclone l",
        "nsclone -q l",
        "nsclone -q --kill-child=TERM l",
        "nsclone -- l",
    ] {
        let commands = offered(line);
        assert!(commands.contains("ls"), "{name}: {line}<Tab>: no ls");
    }
    for line in [
        "nsclone -q ls --",
        "nsclone -q ls -",
        "nsclone -- ls --",
        "nsclone -- --ho",
        "nsclone --hostname box ls -",
    ] {
        let after = offered(line);
        for ours in ["--hostname", "--kill-child", "--mount-proc", "--vfork"] {
            assert!(
                !after.contains(ours),
                "{name}: {line}<Tab> offers {ours}: {after:?}"
            );
        }
    }
    let files = offered("nsclone -q ls no");
    assert!(
        files.contains("notes.txt"),
        "{name}: nsclone -q ls no<Tab>: {files:?}"
    );
}

/// PATH with `dir` first.
fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

/// The names a shell offers after `--kill-child=`.
fn kill_child_signals(shell: &dyn Shell) -> BTreeSet<String> {
    shell
        .complete("nsclone --kill-child=")
        .into_iter()
        .map(|s| s.trim_start_matches("--kill-child=").to_owned())
        .collect()
}

/// bash, calling the completion function as readline would: COMP_WORDS is
/// the line split at blanks and at COMP_WORDBREAKS (`=` is a word of its
/// own), COMP_CWORD the last word, COMP_LINE and COMP_POINT the line and the
/// cursor at its end. With `bash_completion`, the bash-completion package is
/// loaded first.
struct Bash {
    bash_completion: Option<PathBuf>,
    dir: tempfile::TempDir,
}

impl Bash {
    fn new(bash_completion: Option<PathBuf>) -> Bash {
        Bash {
            bash_completion,
            dir: workdir(),
        }
    }
}

/// The bash-completion package's main script, where Debian installs it.
const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

impl Shell for Bash {
    fn complete(&self, line: &str) -> Vec<String> {
        let mut words: Vec<&str> = Vec::new();
        for word in line.split(' ') {
            match word.split_once('=') {
                Some((option, value)) => {
                    words.extend([option, "="]);
                    if !value.is_empty() {
                        words.push(value);
                    }
                }
                None => words.push(word),
            }
        }
        // compopt changes how readline shows the candidates; no completion
        // is running here for it to change.
        let script = r#"
            compopt() { :; }
            [[ $1 ]] && . "$1"
            . "$2"
            COMP_LINE=$3 COMP_POINT=${#3}
            shift 3
            COMP_WORDS=("$@") COMP_CWORD=$(($# - 1))
            _nsclone
            printf '%s\n' "${COMPREPLY[@]}"
        "#;
        let bash_completion = self.bash_completion.as_deref().unwrap_or(Path::new(""));
        let output = Command::new("bash")
            .args(["--norc", "--noprofile", "-c", script, "bash"])
            .arg(bash_completion)
            .arg(repo().join(BASH))
            .arg(line)
            .args(&words)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        candidates(&output, &format!("bash: {line}"))
    }
}

/// The lines a shell printed, checking that it said nothing else.
fn candidates(output: &Output, what: &str) -> Vec<String> {
    let stderr = common::stderr(output);
    assert!(
        output.status.success() && stderr.is_empty(),
        "{what}: {output:?}"
    );
    common::stdout(output)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn bash_completes_options_values_and_then_the_command_alone() {
    let bash = Bash::new(None);
    check_completions(&bash, "bash");
    // Without the bash-completion package: plain file names after the
    // command.
    assert_eq!(bash.complete("nsclone -q ls --co"), Vec::<String>::new());
    // Without = in COMP_WORDBREAKS, `--kill-child=T` is one word.
    let output = Command::new("bash")
        .args(["--norc", "-c"])
        .arg(format!(
            r#"compopt() {{ :; }}; . {BASH}; COMP_WORDS=(nsclone --kill-child=TE) COMP_CWORD=1
               _nsclone; printf '%s\n' "${{COMPREPLY[@]}}""#
        ))
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(candidates(&output, "bash"), ["--kill-child=TERM"]);
}

#[test]
fn bash_with_bash_completion_completes_the_commands_own_options() {
    let test = "bash_with_bash_completion_completes_the_commands_own_options";
    if !Path::new(BASH_COMPLETION).exists() {
        skip(
            test,
            "bash-completion is not installed (apt-get install bash-completion)",
        );
        return;
    }
    let bash = Bash::new(Some(BASH_COMPLETION.into()));
    check_completions(&bash, "bash with bash-completion");
    // ls's own completion: its long options, read from `ls --help`.
    let ls = bash.complete("nsclone -q ls --col");
    assert!(ls.iter().any(|c| c.starts_with("--color")), "{ls:?}");
}

/// zsh at a pseudo-terminal of its own (zsh/zpty), with compinit and the
/// completion's directory first in fpath: the line is typed, then a real
/// Tab. compadd, through which every completion function offers its
/// candidates, is wrapped to print each one between markers.
struct Zsh {
    fpath: PathBuf,
    dir: tempfile::TempDir,
}

/// The driver: a non-interactive zsh that starts an interactive one in a
/// zpty, types the line and a Tab, and reads the terminal up to markers
/// that the typed text does not contain (`<DO""NE>` prints `<DONE>`). Tab
/// runs complete-word, then prints a marker; only then is the line cleared
/// (zle would cut a completion short if it saw more input waiting). No
/// list of candidates is shown: it could ask whether to show them all. It
/// prints the terminal's output, redrawing and all; [`Zsh::complete`]
/// picks the candidates out.
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT=; fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a hits; builtin compadd -A hits "$@"; local ret=$?
  (( $#hits )) && print -rn -- "<MATCH>"${^hits}"</MATCH>"
  builtin compadd "$@"; return ret
}'
zpty -w z 'tab () { zle complete-word; print -n "<TAB""BED>" }; zle -N tab; bindkey "^I" tab'
zpty -w z 'unsetopt autolist listbeep; zstyle ":completion:*" menu no; print "<REA""DY>"'
zpty -r -m z out '*<READY>*'
zpty -w -n z "$2"$'\t'
zpty -r -m z out '*<TABBED>*'
print -r -- "$out"
zpty -w z $'\C-u''print "<DO""NE>"'
zpty -r -m z done '*<DONE>*'
zpty -d z
"#;

impl Zsh {
    fn new(fpath: PathBuf) -> Zsh {
        Zsh {
            fpath,
            dir: workdir(),
        }
    }
}

impl Shell for Zsh {
    fn complete(&self, line: &str) -> Vec<String> {
        // A deadline, in case the terminal never shows a marker: zpty's
        // reads would wait forever.
        let output = Command::new("timeout")
            .args(["120", "zsh", "-f", "-c", ZSH_DRIVER, "zsh"])
            .arg(&self.fpath)
            .arg(line)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("TERM", "dumb")
            .output()
            .unwrap();
        let terminal = candidates(&output, &format!("zsh: {line}")).join("\n");
        let found: BTreeSet<&str> = terminal
            .split("<MATCH>")
            .skip(1)
            .map(|m| m.split_once("</MATCH>").expect("a whole match").0)
            .collect();
        found.into_iter().map(String::from).collect()
    }
}

#[test]
fn zsh_completes_options_values_and_then_the_command() {
    let test = "zsh_completes_options_values_and_then_the_command";
    if !have(test, "zsh", "zsh") {
        return;
    }
    assert_parses("zsh", ZSH);
    let zsh = Zsh::new(repo().join("completions"));
    check_completions(&zsh, "zsh");
}

/// fish, whose `complete -C LINE` prints what it would offer at the end of
/// LINE (a candidate, a tab, its description), in a home of its own. fish
/// loads a command's completion only for a command it finds, so the
/// directory of the nsclone under test comes first in PATH.
struct Fish {
    /// Where fish finds nsclone.fish (before its own completions).
    completions: PathBuf,
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Fish {
    fn new(completions: PathBuf) -> Fish {
        Fish {
            completions,
            dir: workdir(),
            home: common::tempdir(),
        }
    }
}

/// `fish -c SCRIPT`, with a home, configuration and data of its own.
fn fish(home: &Path, script: &str) -> Command {
    let mut fish = Command::new("fish");
    fish.args(["-c", script])
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"));
    fish
}

impl Shell for Fish {
    fn complete(&self, line: &str) -> Vec<String> {
        let script = "set fish_complete_path $argv[1] $fish_complete_path; complete -C $argv[2]";
        let tested = Path::new(env!("CARGO_BIN_EXE_nsclone")).parent().unwrap();
        let output = fish(self.home.path(), script)
            .arg(&self.completions)
            .arg(line)
            .current_dir(self.dir.path())
            .env("PATH", path_with(tested))
            .output()
            .unwrap();
        candidates(&output, &format!("fish: {line}"))
            .into_iter()
            .map(|l| l.split('\t').next().unwrap().to_owned())
            .collect()
    }
}

#[test]
fn fish_completes_options_values_and_then_the_command() {
    let test = "fish_completes_options_values_and_then_the_command";
    if !have(test, "fish", "fish") {
        return;
    }
    assert_parses("fish", FISH);
    check_completions(&Fish::new(repo().join("completions")), "fish");
}

#[test]
fn every_signal_offered_for_kill_child_is_one_nsclone_takes() {
    let test = "every_signal_offered_for_kill_child_is_one_nsclone_takes";
    let bash = Bash::new(None);
    let expected = kill_child_signals(&bash);
    // kill -l's names for signals 1 to 31 (HUP to SYS), without SIG.
    assert_eq!(expected.len(), 31, "{expected:?}");
    for name in &expected {
        // Options are read in order: --version after a good signal prints
        // the version; after a bad one, nsclone fails first.
        let output = common::run(&[&format!("--kill-child={name}"), "--version"]);
        assert!(output.status.success(), "--kill-child={name}: {output:?}");
    }
    let bad = common::run(&["--kill-child=RTMIN", "--version"]);
    assert_eq!(bad.status.code(), Some(125));

    if have(test, "zsh", "zsh") {
        let zsh = Zsh::new(repo().join("completions"));
        assert_eq!(kill_child_signals(&zsh), expected, "zsh");
    }
    if have(test, "fish", "fish") {
        let fish = Fish::new(repo().join("completions"));
        assert_eq!(kill_child_signals(&fish), expected, "fish");
    }
}

/// `make ARGS` in the repository, as a user would type it: without the
/// make variables of a `make test` this test may run under (they would
/// pass that make's command-line variables on to this one).
fn make(args: &[&str]) -> Output {
    let output = Command::new("make")
        .args(args)
        .current_dir(repo())
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .output()
        .unwrap();
    assert!(output.status.success(), "make {args:?}: {output:?}");
    output
}

/// The files (not directories) under `root`, as paths relative to it.
fn files_under(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                files.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn make_install_puts_each_file_in_its_place_and_uninstall_takes_them_all_away() {
    let test = "make_install_puts_each_file_in_its_place_and_uninstall_takes_them_all_away";
    if !have(test, "make", "make") {
        return;
    }
    let dir = common::tempdir();
    let root = dir.path().join("root");
    let destdir = format!("DESTDIR={}", root.display());
    // Builds the release binary first if a source is newer (cargo then
    // has little or nothing to do: the suite's own builds came first).
    make(&["install", &destdir, "PREFIX=/usr"]);

    // Exactly these files, with these modes and contents.
    let installed = [
        ("usr/bin/nsclone", release_binary(), 0o755),
        (
            "usr/share/bash-completion/completions/nsclone",
            repo().join(BASH),
            0o644,
        ),
        (
            "usr/share/fish/vendor_completions.d/nsclone.fish",
            repo().join(FISH),
            0o644,
        ),
        ("usr/share/man/man1/nsclone.1", repo().join(MAN_PAGE), 0o644),
        (
            "usr/share/zsh/site-functions/_nsclone",
            repo().join(ZSH),
            0o644,
        ),
    ];
    let names: Vec<_> = installed
        .iter()
        .map(|(name, ..)| name.to_string())
        .collect();
    assert_eq!(files_under(&root), names);
    for (name, source, mode) in &installed {
        use std::os::unix::fs::PermissionsExt;
        let path = root.join(name);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, *mode, "{name}");
        assert!(
            std::fs::read(&path).unwrap() == std::fs::read(source).unwrap(),
            "{name}"
        );
    }
    assert_version(&root.join("usr/bin/nsclone"));

    // The build is fresh now, so installing again runs no cargo: `sudo make
    // install` after a build as yourself does not build as root.
    let again = make(&["-n", "install", &destdir, "PREFIX=/usr"]);
    let commands = common::stdout(&again);
    assert!(!commands.contains("cargo"), "make -n install:\n{commands}");

    // Each shell finds its completion where it was installed.
    let share = root.join("usr/share");
    if Path::new(BASH_COMPLETION).exists() {
        // bash-completion looks in $XDG_DATA_DIRS/bash-completion/completions
        // the first time a command is completed.
        let output = Command::new("bash")
            .args([
                "--norc",
                "-c",
                r#". "$1" && __load_completion nsclone && complete -p nsclone"#,
            ])
            .arg("bash")
            .arg(BASH_COMPLETION)
            .env("XDG_DATA_DIRS", &share)
            .output()
            .unwrap();
        assert_eq!(
            candidates(&output, "bash-completion"),
            ["complete -F _nsclone nsclone"]
        );
    } else {
        skip(
            test,
            "bash-completion is not installed (apt-get install bash-completion)",
        );
    }
    if have(test, "zsh", "zsh") {
        let zsh = Zsh::new(share.join("zsh/site-functions"));
        assert_eq!(zsh.complete("nsclone --ho"), ["--hostname"]);
    }
    if have(test, "fish", "fish") {
        // fish looks in $XDG_DATA_DIRS/fish/vendor_completions.d, for a
        // command it finds.
        let home = common::tempdir();
        let output = fish(home.path(), "complete -C 'nsclone --ho'")
            .env("PATH", path_with(&root.join("usr/bin")))
            .env("XDG_DATA_DIRS", &share)
            .output()
            .unwrap();
        let found = candidates(&output, "fish");
        assert!(
            found.len() == 1 && found[0].starts_with("--hostname\t"),
            "{found:?}"
        );
    }

    // Uninstall removes every file; the directories install made remain.
    make(&["uninstall", &destdir, "PREFIX=/usr"]);
    assert_eq!(files_under(&root), Vec::<String>::new());
}

#[test]
fn cargo_install_gives_a_binary_that_runs() {
    let test = "cargo_install_gives_a_binary_that_runs";
    let root = common::tempdir();
    // A target directory of its own, kept across runs so that only the
    // first builds everything; --locked: the versions of Cargo.lock, the
    // ones tested.
    let status = Command::new(env!("CARGO"))
        .args(["install", "--locked", "--quiet", "--path", "."])
        .arg("--root")
        .arg(root.path())
        .arg("--target-dir")
        .arg(repo().join("target/cargo-install"))
        .current_dir(repo())
        .status()
        .unwrap();
    assert!(status.success(), "cargo install: {status:?}");
    let nsclone = root.path().join("bin/nsclone");
    assert_version(&nsclone);

    if !privileged(test) {
        return;
    }
    let _host = Host::guard();
    let run = |args: &[&str]| Command::new(&nsclone).args(args).output().unwrap();
    assert!(run(&["-q", "true"]).status.success());
    let inside = run(&["-q", "hostname"]);
    assert_eq!(common::stdout(&inside), "newhostname\n", "{inside:?}");
    assert_eq!(run(&["-q", "sh", "-c", "exit 42"]).status.code(), Some(42));
    assert_eq!(run(&["-q", "nosuchcommand"]).status.code(), Some(127));
}
