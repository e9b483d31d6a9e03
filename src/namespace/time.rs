//! Time namespaces: the monotonic and boot-time clocks, shifted.
//!
//! A time namespace holds two offsets, added to `CLOCK_MONOTONIC` and
//! `CLOCK_BOOTTIME` for the processes inside (time_namespaces(7)); the
//! wall clock, `CLOCK_REALTIME`, is not namespaced. A container moved to
//! another machine can so keep its uptime. `/proc/uptime` shows the
//! boot-time clock, so `cat /proc/uptime` inside shows the offset.
//!
//! # The trap: clone(2) cannot create one
//!
//! Legacy clone takes the child's exit signal in the low byte of its flags
//! (`SIGCHLD` is 17). `CLONE_NEWTIME` is 0x80, inside that byte: clone reads
//! it as part of the signal number, and the child stays in its parent's time
//! namespace (measured: nothing fails, nothing changes). clone3(2) has a
//! separate field for the signal and accepts `CLONE_NEWTIME`, but then the
//! child is already inside, and offsets can only be written while a time
//! namespace has no process in it: there is no moment left to set them.
//!
//! So a time namespace is made with unshare(2), which, for this type, does
//! not move the caller: the new namespace becomes its `time_for_children`,
//! empty, and its offsets can be written to `/proc/self/timens_offsets`
//! (`monotonic SECS 0`, `boottime SECS 0`; the last number is nanoseconds).
//! The first process to enter it fixes them. Who calls unshare depends on
//! which user namespace must own the new time namespace:
//!
//! - **without `--user`, the launcher** ([`ForChildren`]): it unshares,
//!   writes the offsets, then clones; the kernel puts a child created by
//!   clone into its parent's `time_for_children`. The launcher then returns
//!   to its old `time_for_children` with setns(2), so that later children
//!   (of a library caller) do not land in the namespace too. Two kernel
//!   rules make this a single-threaded affair: `/proc/self/timens_offsets`
//!   is the thread-group leader's, whichever thread writes it, and setns(2)
//!   into a time namespace refuses a process with several threads (EUSERS).
//!   The nsclone command has one thread; a multi-threaded caller gets an
//!   error before anything is changed.
//! - **with `--user`, the child**, once the parent has written its id maps
//!   and released it: the time namespace must belong to the child's new
//!   user namespace, the only place an unprivileged user has
//!   `CAP_SYS_ADMIN` (and where `CAP_SYS_TIME`, needed for the offsets, is
//!   the child's). Being single-threaded, the child can write its own
//!   `timens_offsets`. It enters the namespace at execve(2),
//!   which moves a process into its `time_for_children` since Linux 6.2;
//!   older kernels are refused beforehand, since there the command would
//!   silently keep the host's clocks.

use std::ffi::CStr;

use syscalls::Errno;

use crate::error::Error;
use crate::namespace::{Namespace, write_proc};
use crate::sys::{self, Fd};

/// Where the offsets of a time namespace are written, while it is empty.
pub const OFFSETS: &CStr = c"/proc/self/timens_offsets";

/// The offsets to add to the clocks of a new time namespace, in seconds.
/// A clock left `None` keeps the host's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockOffsets {
    /// Added to `CLOCK_MONOTONIC`.
    pub monotonic: Option<i64>,
    /// Added to `CLOCK_BOOTTIME` (and so to `/proc/uptime`).
    pub boottime: Option<i64>,
}

impl ClockOffsets {
    /// Whether any offset is set.
    pub fn is_empty(&self) -> bool {
        self.monotonic.is_none() && self.boottime.is_none()
    }

    /// The text for `timens_offsets`: one `CLOCK SECS NANOSECS` line per
    /// clock, written at once. Prepared before clone, since the child may
    /// write it and may not allocate.
    pub fn text(&self) -> Vec<u8> {
        let mut text = String::new();
        if let Some(secs) = self.monotonic {
            text.push_str(&format!("monotonic {secs} 0\n"));
        }
        if let Some(secs) = self.boottime {
            text.push_str(&format!("boottime {secs} 0\n"));
        }
        text.into_bytes()
    }
}

/// The call that writes the offsets, for messages.
pub fn offsets_call(text: &[u8]) -> String {
    format!(
        "write(\"/proc/self/timens_offsets\", {:?})",
        String::from_utf8_lossy(text)
    )
}

/// Write the offsets of the caller's `time_for_children`, which must still
/// be empty. Allocates nothing: the child calls it.
pub fn write_offsets(text: &[u8]) -> Result<(), Errno> {
    write_proc(OFFSETS, text)
}

/// Whether execve(2) moves a process into its `time_for_children`, which
/// Linux does since 6.2 ("fs/exec: switch timens when a task gets a new
/// mm"). Decided from uname(2)'s release, such as `6.18.44-generic`.
pub fn exec_enters_time_namespace() -> bool {
    let Ok(uts) = sys::uname() else { return false };
    let release: Vec<u8> = uts
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    release_at_least(&release, (6, 2))
}

/// Whether a kernel release string is at least `major.minor`.
fn release_at_least(release: &[u8], (major, minor): (u32, u32)) -> bool {
    let mut numbers = release
        .split(|&b| !b.is_ascii_digit())
        .map(|digits| std::str::from_utf8(digits).ok()?.parse::<u32>().ok());
    match (numbers.next().flatten(), numbers.next().flatten()) {
        (Some(a), Some(b)) => (a, b) >= (major, minor),
        _ => false,
    }
}

/// The launcher's new `time_for_children`, made by [`ForChildren::unshare`]
/// and undone by [`ForChildren::restore`] once the child is cloned.
///
/// Dropping it restores too, ignoring errors: that covers the launcher's
/// own failures between unshare and clone.
#[derive(Debug)]
#[must_use = "the launcher's time_for_children is restored when this is dropped"]
pub struct ForChildren {
    previous: Option<Fd>,
}

impl ForChildren {
    /// Create a time namespace for the caller's future children, with
    /// `text` (see [`ClockOffsets::text`]) as its offsets.
    ///
    /// Refused, before any change, when the caller has several threads or a
    /// `time_for_children` that differs from its own time namespace (see the
    /// module documentation).
    pub fn unshare(text: &[u8]) -> Result<ForChildren, Error> {
        if !single_threaded() {
            return Err(Error::Unsupported(
                "a time namespace without --user is made by the launcher, which must \
                 have a single thread (timens_offsets and setns(2) act on the whole process)",
            ));
        }
        let own = super::id_of_self(Namespace::Time);
        let for_children = sys::stat(c"/proc/self/ns/time_for_children");
        match (own, for_children) {
            (Ok(own), Ok(st)) if own == super::NsId::from_stat(&st) => {}
            (Err(errno), _) | (_, Err(errno)) => {
                return Err(Error::syscall("stat(\"/proc/self/ns/time\")", errno));
            }
            _ => {
                return Err(Error::Unsupported(
                    "the launcher already has a time_for_children of its own",
                ));
            }
        }
        let previous = sys::open(c"/proc/self/ns/time_for_children", libc::O_RDONLY)
            .map_err(|e| Error::syscall("open(\"/proc/self/ns/time_for_children\")", e))?;
        sys::unshare(libc::CLONE_NEWTIME)
            .map_err(|e| Error::syscall("unshare(CLONE_NEWTIME)", e))?;
        let made = ForChildren {
            previous: Some(previous),
        };
        if !text.is_empty() {
            // On failure `made` is dropped, which restores.
            write_offsets(text).map_err(|e| Error::syscall(offsets_call(text), e))?;
        }
        Ok(made)
    }

    /// Return the launcher's `time_for_children` to what it was. setns(2)
    /// into a time namespace also moves the caller itself there, which here
    /// changes nothing: it is the namespace the caller is already in.
    pub fn restore(mut self) -> Result<(), Error> {
        match self.previous.take() {
            Some(previous) => sys::setns(previous.raw(), libc::CLONE_NEWTIME)
                .map_err(|e| Error::syscall("setns(time_for_children, CLONE_NEWTIME)", e)),
            None => Ok(()),
        }
    }
}

impl Drop for ForChildren {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            let _ = sys::setns(previous.raw(), libc::CLONE_NEWTIME);
        }
    }
}

/// Whether the calling process has a single thread: `/proc/self/task` has
/// one directory per thread, and a directory's link count is 2 plus its
/// subdirectories.
fn single_threaded() -> bool {
    sys::stat(c"/proc/self/task").is_ok_and(|st| st.st_nlink == 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_text_has_one_line_per_clock() {
        let both = ClockOffsets {
            monotonic: Some(86400),
            boottime: Some(-5),
        };
        assert_eq!(both.text(), b"monotonic 86400 0\nboottime -5 0\n");
        let one = ClockOffsets {
            boottime: Some(7),
            ..ClockOffsets::default()
        };
        assert_eq!(one.text(), b"boottime 7 0\n");
        assert!(ClockOffsets::default().text().is_empty());
        assert!(ClockOffsets::default().is_empty() && !one.is_empty());
    }

    #[test]
    fn kernel_releases_compare_by_major_and_minor() {
        assert!(release_at_least(b"6.18.44-fc-v857", (6, 2)));
        assert!(release_at_least(b"6.2.0", (6, 2)));
        assert!(release_at_least(b"7.0", (6, 2)));
        assert!(!release_at_least(b"6.1.0-13-amd64", (6, 2)));
        assert!(!release_at_least(b"5.15.0-91-generic", (6, 2)));
        assert!(!release_at_least(b"garbage", (6, 2)));
    }

    #[test]
    fn the_test_harness_is_not_single_threaded() {
        // Each test runs on a thread of its own, beside the main thread: a
        // launcher-made time namespace must be refused here, unchanged.
        if single_threaded() {
            eprintln!("test runs on the main thread (--test-threads=1?): nothing to check");
            return;
        }
        let before = crate::namespace::link(sys::getpid(), "time_for_children").unwrap();
        assert!(matches!(
            ForChildren::unshare(b"monotonic 1 0\n"),
            Err(Error::Unsupported(_))
        ));
        let after = crate::namespace::link(sys::getpid(), "time_for_children").unwrap();
        assert_eq!(before, after);
    }
}
