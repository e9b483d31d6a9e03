//! Signals as data: sets, dispositions, names.
//!
//! The kernel keeps, per signal, a disposition (default action, ignored, or
//! a handler) and, per thread, a mask of blocked signals: a 64-bit set, bit
//! N-1 for signal N. Standard signals (1 to 31) are pending at most once;
//! real-time signals (32 to 64) queue. Across execve(2) a handler is reset
//! to the default action (the handler's code is gone), while "ignored" and
//! the mask survive: that is what a launcher must take care not to leak
//! into its command. See signal(7).
//!
//! Nothing here makes a system call: [`crate::sys`] changes masks and
//! dispositions, [`crate::supervise`] tells how the launcher takes the
//! signals it cares about while the command runs.

/// A set of signals, as the kernel's 64-bit `sigset_t`: bit N-1 is signal N.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigSet(u64);

impl SigSet {
    /// The size of the kernel's signal set, which the `rt_sig*` calls expect
    /// (libc's `sigset_t` is larger, reserved for growth that never came).
    pub const KERNEL_SIZE: usize = 8;

    /// No signals.
    pub const EMPTY: SigSet = SigSet(0);

    /// Every signal (the kernel silently keeps SIGKILL and SIGSTOP unblocked).
    pub const ALL: SigSet = SigSet(!0);

    /// A set from its raw bits.
    pub const fn from_bits(bits: u64) -> SigSet {
        SigSet(bits)
    }

    /// The raw bits, as the kernel reads them.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// This set plus signal `sig` (1 to 64).
    pub const fn with(self, sig: i32) -> SigSet {
        SigSet(self.0 | 1 << (sig - 1))
    }

    /// Whether `sig` is in the set.
    pub const fn contains(self, sig: i32) -> bool {
        self.0 & (1 << (sig - 1)) != 0
    }
}

/// What the kernel does when a signal arrives (its disposition, signal(7)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// The default action (`SIG_DFL`): terminate, dump core, stop or ignore,
    /// depending on the signal.
    Default,
    /// Ignored (`SIG_IGN`); exec keeps it so.
    Ignore,
    /// A handler function of this process; exec resets it to the default.
    Handler,
}

/// The name of signal `sig`, such as `"SIGTERM"`, for messages.
pub fn name(sig: i32) -> &'static str {
    const NAMES: [&str; 32] = [
        "0",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    usize::try_from(sig)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
        .unwrap_or("a real-time signal")
}

/// The highest signal number the kernel knows (`_NSIG - 1`, `SIGRTMAX`).
pub const SIGNAL_MAX: i32 = 64;

/// Parse a signal as kill(1) takes it: a number (`15`), or a name with or
/// without its `SIG` prefix, in any case (`SIGTERM`, `term`). Real-time
/// signals are accepted by number only.
pub fn parse(text: &str) -> Option<i32> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let sig = text.parse::<i32>().ok()?;
        return (1..=SIGNAL_MAX).contains(&sig).then_some(sig);
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    (1..32).find(|&sig| self::name(sig)[3..] == *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigset_bits_follow_the_kernel_numbering() {
        let set = SigSet::EMPTY.with(libc::SIGHUP).with(64);
        assert_eq!(set.bits(), 1 | 1 << 63);
        assert!(set.contains(libc::SIGHUP));
        assert!(!set.contains(libc::SIGINT));
    }

    #[test]
    fn signal_names() {
        assert_eq!(name(libc::SIGTERM), "SIGTERM");
        assert_eq!(name(libc::SIGKILL), "SIGKILL");
        assert_eq!(name(libc::SIGSYS), "SIGSYS");
        assert_eq!(name(40), "a real-time signal");
    }

    #[test]
    fn signals_parse_by_name_and_number() {
        for text in ["SIGTERM", "TERM", "term", "SigTerm", "15"] {
            assert_eq!(parse(text), Some(libc::SIGTERM), "{text}");
        }
        assert_eq!(parse("KILL"), Some(libc::SIGKILL));
        assert_eq!(parse("sys"), Some(libc::SIGSYS));
        assert_eq!(parse("64"), Some(64));
        for bad in ["", "0", "65", "-9", "SIG", "SIGFOO", "9x", " 9", "+9"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_named_signal_parses_back() {
        for sig in 1..32 {
            assert_eq!(parse(name(sig)), Some(sig));
        }
    }
}
