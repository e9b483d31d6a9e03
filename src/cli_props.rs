//! Property tests of the command line: arbitrary argument bytes never make
//! the parser panic, what it returns always holds its promises, and any
//! valid command line, however spelled, parses back to what it says.

use proptest::prelude::*;

use crate::Command;
use crate::cli::{self, Action, Options, ShowNs};
use crate::error::{Error, Vfork};
use crate::namespace::time::ClockOffsets;
use crate::namespace::{HOST_NAME_MAX, Hostname, Namespace, Namespaces};
use crate::signal;

/// Arguments a parser may meet: options, near-options and raw bytes.
fn argument() -> impl Strategy<Value = Vec<u8>> {
    let word = |prefix: &'static str| {
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(move |mut w| {
            w.splice(0..0, prefix.bytes());
            w
        })
    };
    prop_oneof![
        Just(b"-H".to_vec()),
        Just(b"--hostname".to_vec()),
        Just(b"--kill-child".to_vec()),
        Just(b"-q".to_vec()),
        Just(b"--show-ns".to_vec()),
        Just(b"--show-ns=tree".to_vec()),
        word("--show-ns="),
        Just(b"--trace".to_vec()),
        Just(b"--vfork".to_vec()),
        Just(b"-impnUCTu".to_vec()),
        Just(b"--mount-proc".to_vec()),
        Just(b"--root".to_vec()),
        word("--root="),
        Just(b"--monotonic".to_vec()),
        Just(b"--boottime".to_vec()),
        word("--monotonic="),
        word("--boottime="),
        Just(b"--".to_vec()),
        Just(b"-".to_vec()),
        word("--hostname="),
        word("--kill-child="),
        word("-H"),
        word("--"),
        word("-"),
        proptest::collection::vec(any::<u8>(), 0..80),
    ]
}

fn parse(args: &[Vec<u8>]) -> Result<Action<'_>, String> {
    cli::parse(args.iter().map(Vec::as_slice)).map_err(|e| e.to_string())
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap()
}

/// `cases` runs, without writing regression files into the source tree (a
/// failure prints its shrunk input).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn any_arguments_parse_without_panic_and_keep_the_promises(
        args in proptest::collection::vec(argument(), 0..8),
    ) {
        let before = host();
        match parse(&args) {
            Ok(Action::Run(options)) => {
                let len = options.hostname.as_bytes().len();
                prop_assert!((1..=HOST_NAME_MAX).contains(&len));
                if let Some(sig) = options.kill_child {
                    prop_assert!((1..=signal::SIGNAL_MAX).contains(&sig));
                }
                prop_assert!(options.namespaces.contains(Namespace::Uts));
                // What the options imply, the command decides.
                let mut command = Command::new("true");
                options.apply(&mut command);
                let ns = command.namespaces();
                if options.mount_proc {
                    prop_assert!(ns.contains(Namespace::Mount) && ns.contains(Namespace::Pid));
                }
                if !options.clock_offsets.is_empty() {
                    prop_assert!(ns.contains(Namespace::Time));
                }
                if options.root.is_some() {
                    prop_assert!(ns.contains(Namespace::Mount));
                }
                // Vfork style never goes with what it cannot serve.
                if options.vfork && options.show_ns.is_some() {
                    let refused = command.check(true).unwrap_err();
                    prop_assert!(matches!(refused, Error::Vfork(Vfork::BeforeExec)));
                }
                if options.vfork && ns.contains(Namespace::User) {
                    let refused = command.check(false).unwrap_err();
                    prop_assert!(matches!(refused, Error::Vfork(Vfork::User)));
                }
                // The command is the arguments' tail, from an argument that
                // is not an option, or after `--`.
                if let Some(first) = options.command {
                    prop_assert!(first < args.len());
                    let word = &args[first];
                    let after_dashes = first > 0 && args[first - 1] == b"--";
                    prop_assert!(after_dashes || word.first() != Some(&b'-') || word == b"-");
                }
            }
            Ok(Action::Help | Action::Version) => {}
            Err(message) => {
                prop_assert!(!message.is_empty());
                prop_assert!(!message.chars().any(char::is_control), "{message:?}");
            }
        }
        prop_assert_eq!(host(), before);
    }

    #[test]
    fn valid_command_lines_parse_back_whatever_their_spelling(
        hostname in proptest::collection::vec(any::<u8>(), 1..=HOST_NAME_MAX),
        spelling in 0..4usize,
        quiet in any::<bool>(),
        show_ns in proptest::option::of((any::<bool>(), 0..3usize)),
        trace in any::<bool>(),
        vfork in any::<bool>(),
        kill_child in proptest::option::of((1..=signal::SIGNAL_MAX, 0..4usize)),
        flags in proptest::collection::vec((0..Namespace::ALL.len(), any::<bool>()), 0..4),
        mount_proc in any::<bool>(),
        root in proptest::option::of((proptest::collection::vec(any::<u8>(), 0..12), any::<bool>())),
        monotonic in proptest::option::of((any::<i64>(), any::<bool>())),
        boottime in proptest::option::of((any::<i64>(), any::<bool>())),
        command in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..10), 1..4),
        dashes in any::<bool>(),
    ) {
        let mut args: Vec<Vec<u8>> = Vec::new();
        match spelling {
            0 => args.extend([b"-H".to_vec(), hostname.clone()]),
            1 => args.extend([b"--hostname".to_vec(), hostname.clone()]),
            2 => args.push([&b"--hostname="[..], &hostname].concat()),
            _ => args.push([&b"-H"[..], &hostname].concat()),
        }
        if quiet {
            args.push(b"-q".to_vec());
        }
        // The table by default or by name, or the tree.
        let show_ns = show_ns.map(|(tree, spelling)| match (tree, spelling) {
            (true, _) => {
                args.push(b"--show-ns=tree".to_vec());
                ShowNs::Tree
            }
            (false, 0) => {
                args.push(b"--show-ns".to_vec());
                ShowNs::Table
            }
            (false, _) => {
                args.push(b"--show-ns=table".to_vec());
                ShowNs::Table
            }
        });
        if trace {
            args.push(b"--trace".to_vec());
        }
        let kill_child = kill_child.map(|(sig, spelling)| {
            let name = match (spelling, sig) {
                (0, _) => sig.to_string(),
                (1, 1..32) => signal::name(sig).to_string(),
                (2, 1..32) => signal::name(sig)[3..].to_ascii_lowercase(),
                _ => {
                    args.push(b"--kill-child".to_vec());
                    return libc::SIGKILL;
                }
            };
            args.push(format!("--kill-child={name}").into_bytes());
            sig
        });
        // Namespaces by short or long name, and what implies them.
        let mut namespaces = Namespaces::EMPTY.with(Namespace::Uts);
        for (i, long) in flags {
            let ns = Namespace::ALL[i];
            namespaces = namespaces.with(ns);
            args.push(match long {
                true => format!("--{}", long_name(ns)).into_bytes(),
                false => format!("-{}", short_name(ns)).into_bytes(),
            });
        }
        if mount_proc {
            args.push(b"--mount-proc".to_vec());
        }
        let root_index = root.as_ref().map(|(dir, joined)| match joined {
            true => {
                args.push([&b"--root="[..], dir].concat());
                (args.len() - 1, b"--root=".len())
            }
            false => {
                args.extend([b"--root".to_vec(), dir.clone()]);
                (args.len() - 1, 0)
            }
        });
        let mut clock_offsets = ClockOffsets::default();
        for (clock, offset) in [("monotonic", monotonic), ("boottime", boottime)] {
            let Some((secs, joined)) = offset else { continue };
            match joined {
                true => args.push(format!("--{clock}={secs}").into_bytes()),
                false => args.extend([format!("--{clock}").into_bytes(), secs.to_string().into_bytes()]),
            }
            match clock {
                "monotonic" => clock_offsets.monotonic = Some(secs),
                _ => clock_offsets.boottime = Some(secs),
            }
        }
        if vfork {
            args.push(b"--vfork".to_vec());
        }
        // The command starts after `--`, or at the first argument that is
        // not an option; one that looks like an option needs the `--`.
        let looks_like_option = command[0].first() == Some(&b'-');
        if dashes || looks_like_option {
            args.push(b"--".to_vec());
        }
        let first = args.len();
        args.extend(command.iter().cloned());

        let parsed = parse(&args);
        let expected = Options {
            hostname: Hostname::new(hostname).unwrap(),
            namespaces,
            mount_proc,
            root: root_index.map(|(i, from)| &args[i][from..]),
            clock_offsets,
            show_ns,
            trace,
            quiet,
            kill_child,
            vfork,
            join: None,
            keep: None,
            unkeep: None,
            // A hostname is always typed above.
            uts_typed: true,
            command: Some(first),
        };
        prop_assert_eq!(parsed, Ok(Action::Run(expected)), "{:?}", args);
    }
}

/// The long option for a namespace type, as unshare(1) spells it.
fn long_name(ns: Namespace) -> &'static str {
    match ns {
        Namespace::Cgroup => "cgroup",
        Namespace::Ipc => "ipc",
        Namespace::Mount => "mount",
        Namespace::Net => "net",
        Namespace::Pid => "pid",
        Namespace::Time => "time",
        Namespace::User => "user",
        Namespace::Uts => "uts",
    }
}

/// The short option for a namespace type.
fn short_name(ns: Namespace) -> char {
    match ns {
        Namespace::Cgroup => 'C',
        Namespace::Ipc => 'i',
        Namespace::Mount => 'm',
        Namespace::Net => 'n',
        Namespace::Pid => 'p',
        Namespace::Time => 'T',
        Namespace::User => 'U',
        Namespace::Uts => 'u',
    }
}
