//! The nsclone command: parse the command line, launch, end like the child.
//! The mechanics are in the library; see `src/lib.rs` for the tour.
//!
//! Start-up: there is no Rust `fn main`. The C runtime calls the `main`
//! below directly, so std's own start-up does not run. That start-up would
//! set SIGPIPE to "ignored", which exec passes on to the command (`yes |
//! head -1` would then never end by SIGPIPE); and it reads /proc/self/maps
//! and installs an alternate signal stack and handlers to report stack
//! overflows, about twenty system calls the launcher does not need. std
//! still works without it: it reads the arguments and environment itself.

// Test builds keep the harness's own main, which runs the unit tests.
#![cfg_attr(not(test), no_main)]
#![deny(unsafe_code)]

mod cli;
#[cfg(test)]
mod cli_props;

use std::ffi::OsString;
use std::io::Write;
use std::process::exit;

use nsclone::error::EXIT_LAUNCHER;
use nsclone::namespace::Namespace;
use nsclone::signal::{self, Disposition, SUPERVISED, SigSet};
use nsclone::{Command, Error, WaitStatus, credentials, namespace, sys, trace};

use cli::{Action, Options};

/// The program's entry, called by the C runtime with argc and argv, which
/// std reads on its own (`std::env::args_os`).
// SAFETY (no_mangle): this is the program's only symbol named `main`, with
// the C signature the runtime expects.
#[cfg(not(test))]
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    run()
}

/// Parse, launch, and end as the child did.
#[cfg_attr(test, allow(dead_code))]
fn run() -> ! {
    // First of all: a set-user-ID nsclone would run any command as root.
    if let Err(refused) = credentials::refuse_setuid() {
        eprintln!("nsclone: {refused}");
        exit(EXIT_LAUNCHER);
    }
    let options = match cli::parse(std::env::args_os().skip(1), std::env::var_os("SHELL")) {
        Ok(Action::Run(options)) => options,
        Ok(Action::Help) => {
            print!("{}", cli::HELP);
            exit(0);
        }
        Ok(Action::Version) => {
            println!("nsclone {}", env!("CARGO_PKG_VERSION"));
            exit(0);
        }
        Err(message) => {
            eprintln!("nsclone: {message} (see nsclone --help)");
            exit(EXIT_LAUNCHER);
        }
    };
    match launch(&options) {
        Ok(status) => signal::exit_like(status),
        Err(error) => {
            eprintln!("nsclone: {error}");
            exit(error.exit_code());
        }
    }
}

/// Run the command and wait for it, forwarding signals.
fn launch(options: &Options) -> Result<WaitStatus, Error> {
    if options.trace {
        trace::enable();
    }
    // Block the signals we supervise before the child exists, so that none
    // is lost (or kills us) in between; the child starts with the original.
    let original = signal::block(SUPERVISED).map_err(|e| Error::syscall("rt_sigprocmask", e))?;
    let mut command = Command::new(&options.command[0]);
    command
        .args(&options.command[1..])
        .hostname(options.hostname.clone())
        .signal_mask(original)
        // No std runtime start-up ran (see the top of this file), so SIGPIPE
        // is as the caller left it: the command inherits it, as with exec.
        .signal_defaults(SigSet::EMPTY)
        .vfork(options.vfork);
    // Ignoring SIGCHLD tells the kernel to reap children at once and send
    // no SIGCHLD: we would never learn how the command ended, nor wake up.
    // A caller may have left it ignored (it survives exec): take it back for
    // ourselves, and give it to the command again just before its exec.
    if sys::sigaction_disposition(libc::SIGCHLD) == Ok(Disposition::Ignore) {
        sys::sigaction_default(libc::SIGCHLD).map_err(|e| Error::syscall("rt_sigaction", e))?;
        command.signal_ignores(SigSet::EMPTY.with(libc::SIGCHLD));
    }
    if let Some(sig) = options.kill_child {
        command.parent_death_signal(sig);
    }
    for ns in options.namespaces.iter() {
        command.namespace(ns);
    }
    if options.mount_proc {
        command.mount_proc();
    }
    if !options.clock_offsets.is_empty() {
        command.clock_offsets(options.clock_offsets);
    }

    if !options.quiet {
        let host = namespace::hostname().unwrap_or_default();
        let names: Vec<&str> = options.namespaces.iter().map(Namespace::name).collect();
        say(format!(
            "nsclone: setting up new namespaces ({}) with hostname {} (the host keeps {:?})\n",
            names.join(", "),
            options.hostname,
            String::from_utf8_lossy(&host)
        ));
        if options.namespaces.contains(Namespace::User) {
            say(format!(
                "nsclone: uid {} and gid {} are 0 (root) in the new user namespace\n",
                sys::geteuid(),
                sys::getegid()
            ));
        }
    }
    let announce = |pid| {
        if options.show_ns {
            say(namespace::comparison(sys::getpid(), pid));
            let ns = options.namespaces;
            if ns.contains(Namespace::Time) && ns.contains(Namespace::User) && !options.quiet {
                say(
                    "nsclone: with --user the child makes its time namespace after this table, \
                     and the command enters it when it execs\n"
                        .to_string(),
                );
            }
        }
        if !options.quiet {
            say(format!(
                "nsclone: running {} as pid {pid}\n",
                words(&options.command)
            ));
        }
    };
    // Holding the child until the announcement is printed keeps it before
    // the command's own output. In vfork style the launcher cannot hold the
    // child (it sleeps until the exec), so it announces right after; the
    // parser has already refused --show-ns with --vfork.
    let child = if options.show_ns || !(options.quiet || options.vfork) {
        command.spawn_with(announce)?
    } else {
        let child = command.spawn()?;
        if !options.quiet {
            announce(child.pid());
        }
        child
    };
    let pid = child.pid();
    signal::supervise(pid).map_err(|e| Error::syscall(format!("wait4({pid})"), e))
}

/// Write `text` on standard error with one write(2), so that the child's
/// trace lines, written at the same time, cannot cut it in two (`eprintln!`
/// writes each piece of its format separately).
fn say(text: String) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// A command line as the article prints it: `[sh -c 'echo hi']`.
fn words(command: &[OsString]) -> String {
    let words: Vec<_> = command.iter().map(|w| w.to_string_lossy()).collect();
    format!("{words:?}")
}
