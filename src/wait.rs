//! What a child's end means: its wait status, and the exit codes a
//! launcher ends with.
//!
//! `wait4(2)` reports how a child ended as one int: the low seven bits hold
//! the signal that killed it (0 if none), bit 7 says whether it dumped core,
//! and the next byte holds its exit code. A stopped child shows 0x7f in the
//! low byte, a continued one 0xffff. [`WaitStatus`] decodes that in plain
//! Rust; the tests check it against libc's `W*` macros. See wait(2).
//!
//! A launcher that cannot run its command must still end with a status that
//! says so; the conventions of GNU env, timeout and chroot, and util-linux:
//! [`EXIT_LAUNCHER`], [`EXIT_CANNOT_EXECUTE`], [`EXIT_NOT_FOUND`].

/// nsclone itself failed, before the command could run.
pub const EXIT_LAUNCHER: i32 = 125;

/// The command was found but could not be executed.
pub const EXIT_CANNOT_EXECUTE: i32 = 126;

/// The command was not found.
pub const EXIT_NOT_FOUND: i32 = 127;

/// How a child changed state, decoded from a raw wait status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStatus {
    /// It called exit with this code (0 to 255).
    Exited(i32),
    /// A signal killed it.
    Signaled {
        /// The signal's number.
        signal: i32,
        /// Whether the kernel wrote a core dump.
        core_dumped: bool,
    },
    /// A signal stopped it (reported only with `WUNTRACED`).
    Stopped(i32),
    /// SIGCONT resumed it (reported only with `WCONTINUED`).
    Continued,
}

impl WaitStatus {
    /// Decode the status that wait4(2) wrote.
    pub fn from_raw(status: i32) -> WaitStatus {
        let low = status & 0x7f;
        if status == 0xffff {
            WaitStatus::Continued
        } else if status & 0xff == 0x7f {
            WaitStatus::Stopped((status >> 8) & 0xff)
        } else if low == 0 {
            WaitStatus::Exited((status >> 8) & 0xff)
        } else {
            WaitStatus::Signaled {
                signal: low,
                core_dumped: status & 0x80 != 0,
            }
        }
    }

    /// The status a shell would report in `$?`: the exit code, or 128+N for
    /// a child killed (or stopped) by signal N.
    pub fn exit_code(self) -> i32 {
        match self {
            WaitStatus::Exited(code) => code,
            WaitStatus::Signaled { signal, .. } | WaitStatus::Stopped(signal) => 128 + signal,
            WaitStatus::Continued => 0,
        }
    }
}

impl core::fmt::Display for WaitStatus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            WaitStatus::Exited(code) => write!(f, "exited with {code}"),
            WaitStatus::Signaled {
                signal,
                core_dumped,
            } => {
                let core = if core_dumped { " (core dumped)" } else { "" };
                write!(f, "killed by {}{core}", crate::signal::name(signal))
            }
            WaitStatus::Stopped(signal) => write!(f, "stopped by {}", crate::signal::name(signal)),
            WaitStatus::Continued => f.write_str("continued"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decode `status` ourselves and with libc's macros; they must agree.
    fn agrees_with_libc(status: i32) {
        let ours = WaitStatus::from_raw(status);
        let theirs = if libc::WIFEXITED(status) {
            WaitStatus::Exited(libc::WEXITSTATUS(status))
        } else if libc::WIFSIGNALED(status) {
            WaitStatus::Signaled {
                signal: libc::WTERMSIG(status),
                core_dumped: libc::WCOREDUMP(status),
            }
        } else if libc::WIFSTOPPED(status) {
            WaitStatus::Stopped(libc::WSTOPSIG(status))
        } else {
            assert!(libc::WIFCONTINUED(status), "status {status:#x}");
            WaitStatus::Continued
        };
        assert_eq!(ours, theirs, "status {status:#x}");
    }

    #[test]
    fn edge_values_decode_like_libc() {
        let exits = [0, 1, 42, 125, 126, 127, 128, 255].map(|code| code << 8);
        let kills = [1, 2, 9, 15, 31, 32, 64].map(|sig| sig);
        let cores = [6, 11].map(|sig| sig | 0x80);
        let stops = [19, 20, 21, 22].map(|sig| sig << 8 | 0x7f);
        for status in exits.iter().chain(&kills).chain(&cores).chain(&stops) {
            agrees_with_libc(*status);
        }
        agrees_with_libc(0xffff);
    }

    #[test]
    fn every_status_word_decodes_like_libc() {
        for status in 0..=0xffff {
            // 0x7f in the low seven bits with bit 7 set is no status the
            // kernel produces; libc calls it neither exited nor signaled.
            if status & 0xff == 0xff && status != 0xffff {
                continue;
            }
            agrees_with_libc(status);
        }
    }

    #[test]
    fn exit_codes_follow_the_shell() {
        assert_eq!(WaitStatus::from_raw(42 << 8).exit_code(), 42);
        assert_eq!(WaitStatus::from_raw(libc::SIGTERM).exit_code(), 143);
        assert_eq!(WaitStatus::from_raw(libc::SIGKILL).exit_code(), 137);
    }

    #[test]
    fn statuses_read_as_words() {
        assert_eq!(WaitStatus::Exited(3).to_string(), "exited with 3");
        let segv = WaitStatus::from_raw(libc::SIGSEGV | 0x80);
        assert_eq!(segv.to_string(), "killed by SIGSEGV (core dumped)");
    }
}
