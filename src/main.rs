//! The nsclone command, a program without libc or std.
//!
//! The kernel starts it at `_start` ([`nsclone::program_start!`]), which
//! calls [`start`] with the stack the kernel built: the arguments, the
//! environment and the auxiliary vector are read there ([`nsclone::start`]),
//! and from then on every system call the launcher makes is one of
//! [`nsclone::sys`]'s, traced with `--trace`, up to its exit_group(2). No C
//! runtime start-up runs before it (about fifteen system calls, and dozens
//! of CPUID instructions that each trap to the hypervisor on a virtual
//! machine), and nothing is copied: the command's argv and environment go to
//! execve(2) as the kernel placed them on this stack.
//!
//! What std would have given, the library gives small ([`nsclone::runtime`]):
//! a heap that only grows, a panic handler that prints one line and exits
//! 125, messages written with one write(2) whose failure is ignored. The
//! binary is linked static and without start files (`build.rs`).
//!
//! The mechanics are in the library; see `src/lib.rs` for the tour.

// `cargo test` and `clippy --all-targets` build this file as a test
// harness, an ordinary std program: then nothing of the libc-free runtime
// below may be defined (std has its own), and nothing runs.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![cfg_attr(test, allow(dead_code, unused_imports))]
#![deny(unsafe_code)]

use core::ffi::c_char;
use core::ptr;

use nsclone::cli::{self, Action, Options, ShowNs};
use nsclone::command::Checked;
use nsclone::credentials::Ids;
use nsclone::error::{Step, Vfork};
use nsclone::exec;
use nsclone::namespace::join::Target;
use nsclone::namespace::{self, Namespace, Namespaces, keep};
use nsclone::runtime;
use nsclone::signal::SigSet;
use nsclone::start::InitialStack;
use nsclone::supervise;
use nsclone::text::Quoted;
use nsclone::text::Words;
use nsclone::wait::{EXIT_LAUNCHER, WaitStatus};
use nsclone::{Command, Error, show, sys, trace};

/// The pieces of a runtime that a program without libc or std must bring
/// itself: see [`nsclone::runtime`].
#[cfg(not(test))]
mod rt {
    use core::ffi::c_char;
    use core::panic::PanicInfo;
    use core::ptr;

    use nsclone::runtime::{self, Arena};
    use nsclone::start::InitialStack;

    nsclone::program_start!(start);
    nsclone::memory_functions!();

    /// The heap: see [`nsclone::runtime`].
    #[global_allocator]
    static HEAP: Arena = Arena::new();

    #[panic_handler]
    fn panic(info: &PanicInfo<'_>) -> ! {
        runtime::panic(info)
    }

    /// `core` and `alloc` come compiled for unwinding: their cleanup code
    /// names `_Unwind_Resume` (libgcc's) and the personality routine that
    /// std would bring. nsclone never unwinds (a panic ends it, see
    /// [`panic`]), so neither is ever reached; the linker only needs them
    /// named.
    #[allow(unsafe_code)]
    #[unsafe(no_mangle)]
    extern "C" fn _Unwind_Resume() -> ! {
        nsclone::arch::trap()
    }

    /// See [`_Unwind_Resume`].
    #[allow(unsafe_code)]
    #[unsafe(no_mangle)]
    extern "C" fn rust_eh_personality() -> ! {
        nsclone::arch::trap()
    }

    /// The process's environment. In a C program libc defines it and its
    /// start-up sets it from the stack; here [`start`] does, and the
    /// library reads it as execvp(3) would.
    #[allow(unsafe_code, non_upper_case_globals)]
    #[unsafe(no_mangle)]
    static mut environ: *const *const c_char = ptr::null();

    /// Where `_start` leads: `sp` is the stack pointer the kernel gave.
    #[allow(unsafe_code)]
    extern "C" fn start(sp: *const usize) -> ! {
        // SAFETY: `_start` passes its initial stack pointer, untouched.
        let stack = unsafe { InitialStack::from_sp(sp) };
        // SAFETY: one thread, and nothing has read `environ` yet.
        unsafe { environ = stack.envp };
        super::main(&stack)
    }
}

/// Parse, launch, and end as the child did.
fn main(stack: &InitialStack) -> ! {
    // A debug build can be made to panic, so that tests see the panic path
    // of the binary itself (tests/binary.rs); a release build cannot.
    #[cfg(debug_assertions)]
    // SAFETY: `environ` is the kernel's envp, NULL-terminated.
    #[allow(unsafe_code)]
    if unsafe { exec::getenv(exec::environment(), b"NSCLONE_TEST_PANIC") }.is_some() {
        panic!("asked to, by NSCLONE_TEST_PANIC");
    }
    let options = match cli::parse(stack.args()) {
        Ok(Action::Run(options)) => options,
        Ok(Action::Help) => print(cli::HELP.as_bytes()),
        Ok(Action::Version) => {
            print(concat!("nsclone ", env!("CARGO_PKG_VERSION"), "\n").as_bytes())
        }
        Err(error) => fail(format_args!("{error} (see nsclone --help)"), EXIT_LAUNCHER),
    };
    if options.trace {
        trace::enable();
        // The trace signs each line with the pid it learns here.
        sys::getpid();
    }
    open_standard_descriptors();
    // The kernel says, at exec, whether we run with more rights than our
    // caller; a set-user-ID nsclone would run any command as root.
    let ids = Ids::at_exec(stack);
    if let Err(refused) = ids.refuse_more_rights() {
        fail(format_args!("{refused}"), EXIT_LAUNCHER);
    }
    if let Some(dir) = &options.unkeep {
        unkeep(&options, dir);
    }
    // The command: the rest of our own argv, or the shell.
    let shell = [shell(), ptr::null()];
    let argv = match options.command {
        // SAFETY: the command's words are the tail of the kernel's argv,
        // NULL-terminated, alive until the process ends.
        #[allow(unsafe_code)]
        Some(first) => unsafe { stack.argv.add(1 + first) },
        None => shell.as_ptr(),
    };
    // SAFETY: as above; `shell` lives in this frame, which never returns.
    #[allow(unsafe_code)]
    let mut command = unsafe { Command::from_raw_argv(argv) };
    options.apply(&mut command);
    match launch(&options, &mut command, ids) {
        Ok(status) => supervise::exit_like(status),
        Err(error) => fail(
            format_args!("{}", Message(&error, &options)),
            error.exit_code(),
        ),
    }
}

/// Run the command and wait for it, forwarding signals.
fn launch(options: &Options, command: &mut Command, ids: Ids) -> Result<WaitStatus, Error> {
    let launcher = |step| move |errno| Error::Launcher { step, errno };
    // Block the signals we supervise before the child exists, so that none
    // is lost (or kills us) in between; the child starts with the original.
    let original = supervise::block().map_err(launcher(Step::SignalMask))?;
    command
        .signal_mask(original)
        // No std runtime ran, so SIGPIPE is as the caller left it: the
        // command inherits it (see nsclone::command::SIGNAL_DEFAULTS).
        .signal_defaults(SigSet::EMPTY)
        // We install no handler, and exec reset our caller's.
        .no_signal_handlers();
    if supervise::take_back_sigchld().map_err(launcher(Step::TakeBackSigchld))? {
        command.signal_ignores(SigSet::EMPTY.with(libc::SIGCHLD));
    }
    // Holding the child until the announcement is printed keeps it before
    // the command's own output. In vfork style the launcher cannot hold the
    // child (it sleeps until the exec), so it announces right after.
    let hold = options.show_ns.is_some() || !(options.quiet || options.vfork);
    let checked = command.check(hold)?;
    if !options.quiet {
        announce_namespaces(options, &checked, ids);
    }
    let new = checked.namespaces();
    let joined = checked
        .joined()
        .map_or(Namespaces::EMPTY, |(types, _)| types);
    let announce = |pid| {
        if let Some(view) = options.show_ns {
            let text = match view {
                ShowNs::Table => show::table(pid, joined),
                ShowNs::Tree => show::tree(pid, joined),
            };
            runtime::write_text(text.as_bytes());
            if new.contains(Namespace::Time) && new.contains(Namespace::User) && !options.quiet {
                runtime::say(format_args!(
                    "nsclone: with --user the child makes its time namespace after this table, \
                     and the command enters it when it execs"
                ));
            }
        }
        if !options.quiet {
            runtime::say(format_args!(
                "nsclone: running {} as pid {pid}",
                Words(command.words())
            ));
        }
    };
    let child = if hold {
        checked.spawn_with(announce)?
    } else {
        let child = checked.spawn()?;
        if !options.quiet {
            announce(child.pid());
        }
        child
    };
    let pid = child.pid();
    supervise::supervise(pid).map_err(launcher(Step::Wait(pid)))
}

/// `nsclone: setting up new namespaces (uts) with hostname "newhostname"
/// (the host keeps "vm")`, and with a user namespace who is root in it;
/// what is joined before, and where the namespaces are kept.
fn announce_namespaces(options: &Options, checked: &Checked<'_>, ids: Ids) {
    let new = checked.namespaces();
    if let Some((joined, target)) = checked.joined() {
        let from = JoinedFrom(target);
        match joined.is_empty() {
            true => runtime::say(format_args!(
                "nsclone: nothing to join {from}: its namespaces are ours"
            )),
            false => runtime::say(format_args!(
                "nsclone: joining the namespaces {from} ({})",
                Names(joined)
            )),
        }
    }
    if new.contains(Namespace::Uts) {
        let mut host = [0; 65];
        let len = namespace::hostname(&mut host).unwrap_or(0);
        runtime::say(format_args!(
            "nsclone: setting up new namespaces ({}) with hostname {} (the host keeps {})",
            Names(new),
            options.hostname,
            Quoted(&host[..len])
        ));
    } else if !new.is_empty() {
        runtime::say(format_args!(
            "nsclone: setting up new namespaces ({})",
            Names(new)
        ));
    }
    if let Some(dir) = &options.keep {
        runtime::say(format_args!(
            "nsclone: keeping the new namespaces in {} once the command runs ({})",
            Quoted(dir),
            Names(new),
        ));
        if new.contains(Namespace::Pid) {
            runtime::say(format_args!(
                "nsclone: a kept PID namespace takes no new process once its PID 1, the \
                 command, has exited"
            ));
        }
    }
    if new.contains(Namespace::User) {
        runtime::say(format_args!(
            "nsclone: uid {} and gid {} are 0 (root) in the new user namespace",
            ids.uid.1, ids.gid.1
        ));
    }
    if let Some(dir) = options.root {
        runtime::say(format_args!(
            "nsclone: {} becomes / in the new mount namespace (pivot_root), the old root detached",
            Quoted(dir)
        ));
    }
}

/// `--unkeep DIR`: release the namespaces kept there, and exit.
fn unkeep(options: &Options, dir: &[u8]) -> ! {
    if options.command.is_some() {
        fail(
            format_args!("--unkeep runs no command (see nsclone --help)"),
            EXIT_LAUNCHER,
        );
    }
    match keep::unkeep(dir) {
        Ok(released) => {
            if !options.quiet {
                runtime::say(format_args!(
                    "nsclone: released the namespaces kept in {} ({}): the kernel frees each \
                     one nothing else refers to",
                    Quoted(dir),
                    Names(released)
                ));
            }
            sys::exit_group(0)
        }
        Err(failed) => fail(format_args!("{failed}"), EXIT_LAUNCHER),
    }
}

/// Where joined namespaces come from: `of pid 4242`, `kept in "/run/box"`.
struct JoinedFrom<'a>(&'a Target);

impl core::fmt::Display for JoinedFrom<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Target::Pid(pid) => write!(f, "of pid {pid}"),
            Target::Dir(dir) => write!(f, "kept in {}", Quoted(dir)),
        }
    }
}

/// The names of a set of namespaces, joined by `, `: `uts, pid`.
struct Names(Namespaces);

impl core::fmt::Display for Names {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, ns) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(ns.name())?;
        }
        Ok(())
    }
}

/// An error as the command line words it: what vfork style cannot serve is
/// named by the options that asked for it.
struct Message<'a>(&'a Error, &'a Options<'a>);

impl core::fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Error::Vfork(Vfork::BeforeExec) if self.1.show_ns.is_some() => f.write_str(
                "--vfork cannot serve --show-ns: nsclone sleeps until the command has \
                 exec'd, too late to show the child's namespaces before it runs",
            ),
            Error::Vfork(Vfork::User) => f.write_str(
                "--vfork cannot serve --user: nsclone sleeps until the command has exec'd, \
                 too late to write the child's uid and gid maps",
            ),
            error => error.fmt(f),
        }
    }
}

/// The shell to run without a command: `$SHELL`, unless unset or empty,
/// else /bin/sh.
fn shell() -> *const c_char {
    // SAFETY: `environ` is the kernel's envp, NULL-terminated.
    #[allow(unsafe_code)]
    let value = unsafe { exec::getenv(exec::environment(), b"SHELL") };
    match value {
        // The value ends where its "NAME=value" string ends, with a NUL.
        Some(value) if !value.is_empty() => value.as_ptr().cast(),
        _ => cli::DEFAULT_SHELL.as_ptr(),
    }
}

/// Make sure descriptors 0, 1 and 2 are open, as set-user-ID programs and
/// init systems do: a caller may have closed them, and then the next
/// descriptors nsclone opens (its pipes) would take their numbers, and
/// nsclone's messages and trace lines would land in its own pipes. One
/// ppoll(2) asks about all three (a closed one reports `POLLNVAL`), as
/// musl's start-up does for a set-user-ID program (nsclone, for every
/// caller); a closed one is opened on /dev/null, which the command then
/// inherits.
fn open_standard_descriptors() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    let why = "are 0, 1 and 2 open? a closed one would be taken by our own pipes";
    if sys::poll_now(&mut fds, why).is_err() {
        return;
    }
    for pfd in fds.iter().filter(|pfd| pfd.revents & libc::POLLNVAL != 0) {
        // The lowest free number is this one: those below it are open.
        let why = "closed: /dev/null in its place, for us and the command";
        match sys::open_inherited(c"/dev/null", libc::O_RDWR, why) {
            Ok(null) if null.raw() == pfd.fd => core::mem::forget(null),
            _ => sys::exit_group(EXIT_LAUNCHER),
        }
    }
}

/// Print `text` on standard output and exit 0; if it cannot be written,
/// say so, as coreutils do, and exit 1.
fn print(text: &[u8]) -> ! {
    let mut rest = text;
    while !rest.is_empty() {
        match sys::write(libc::STDOUT_FILENO, rest) {
            Ok(n) if n > 0 => rest = &rest[n..],
            Ok(_) => fail(format_args!("write error"), 1),
            Err(errno) => fail(
                format_args!("write error: {}", errno.description().unwrap_or("?")),
                1,
            ),
        }
    }
    sys::exit_group(0)
}

/// Say `message` (after `nsclone: `) and exit with `code`.
fn fail(message: core::fmt::Arguments<'_>, code: i32) -> ! {
    runtime::say(format_args!("nsclone: {message}"));
    sys::exit_group(code)
}
