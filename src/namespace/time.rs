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
//! The first process to enter it fixes them.
//!
//! The offsets written are relative to the clocks of the *initial* time
//! namespace, the host's, not to the writer's: inside a time namespace whose
//! boot-time offset is -400, writing `boottime 100 0` gives the host's
//! uptime plus 100. nsclone's `--boottime 100` means "100 s more than I
//! see", so it adds its own namespace's offsets, read from the same file
//! before it unshares ([`Shift::of_caller`]).
//!
//! Who calls unshare depends on
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

use core::ffi::CStr;
use core::fmt::{self, Write};

use syscalls::Errno;

use crate::namespace::{Namespace, NsId, single_threaded, write_proc};
use crate::sys::{self, Fd};
use crate::text::FixedBuf;

/// Where the offsets of a time namespace are written, while it is empty.
pub const OFFSETS: &CStr = c"/proc/self/timens_offsets";

/// The largest value the kernel lets a shifted clock reach, in seconds:
/// half of what a signed 64-bit count of nanoseconds can hold (about 146
/// years), so that no clock can overflow.
pub const CLOCK_MAX_SECS: i64 = i64::MAX / 1_000_000_000 / 2;

/// The offsets to add to the clocks of a new time namespace, in seconds.
/// A clock left `None` keeps the host's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockOffsets {
    /// Added to `CLOCK_MONOTONIC`.
    pub monotonic: Option<i64>,
    /// Added to `CLOCK_BOOTTIME` (and so to `/proc/uptime`).
    pub boottime: Option<i64>,
}

/// A clock a time namespace shifts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// `CLOCK_MONOTONIC`.
    Monotonic,
    /// `CLOCK_BOOTTIME`, which also counts the time suspended.
    Boottime,
}

impl Clock {
    /// Its id for clock_gettime(2).
    pub const fn id(self) -> i32 {
        match self {
            Clock::Monotonic => libc::CLOCK_MONOTONIC,
            Clock::Boottime => libc::CLOCK_BOOTTIME,
        }
    }

    /// Its name in `timens_offsets`, and as nsclone's option (`--boottime`).
    pub const fn name(self) -> &'static str {
        match self {
            Clock::Monotonic => "monotonic",
            Clock::Boottime => "boottime",
        }
    }

    /// Its name in words, for messages.
    pub const fn words(self) -> &'static str {
        match self {
            Clock::Monotonic => "the monotonic clock",
            Clock::Boottime => "the boot-time clock",
        }
    }
}

/// The text written to `timens_offsets`: one `CLOCK SECS NANOSECS` line per
/// clock, at most two lines of a few dozen bytes.
pub type OffsetsText = FixedBuf<96>;

impl ClockOffsets {
    /// Whether any offset is set.
    pub fn is_empty(&self) -> bool {
        self.monotonic.is_none() && self.boottime.is_none()
    }

    /// The offsets that are set, clock by clock.
    pub fn iter(&self) -> impl Iterator<Item = (Clock, i64)> {
        [
            (Clock::Monotonic, self.monotonic),
            (Clock::Boottime, self.boottime),
        ]
        .into_iter()
        .filter_map(|(clock, secs)| Some((clock, secs?)))
    }

    /// The text for `timens_offsets`: these offsets added to `base`, the
    /// caller's own (see the module documentation), written at once.
    /// Prepared before clone, since the child may write it and may not
    /// format.
    pub fn text(&self, base: Shift) -> OffsetsText {
        let mut text = OffsetsText::new();
        for (clock, secs) in self.iter() {
            let secs = secs.saturating_add(base.secs(clock));
            let _ = writeln!(text, "{} {secs} 0", clock.name());
        }
        text
    }

    /// Check each offset against its clock's current value, as the kernel
    /// will when the offsets are written (it refuses with `ERANGE`), but
    /// before anything is created, so that the refusal is clean: a shifted
    /// clock may not be negative, nor pass [`CLOCK_MAX_SECS`].
    pub fn check(&self) -> Result<(), OffsetRefused> {
        for (clock, offset) in self.iter() {
            // A clock that cannot be read is left to the kernel's check.
            let Ok(now) = sys::clock_gettime(clock.id()) else {
                continue;
            };
            let shifted = now.tv_sec.checked_add(offset);
            if !shifted.is_some_and(|s| (0..=CLOCK_MAX_SECS).contains(&s)) {
                return Err(OffsetRefused {
                    clock,
                    offset,
                    now: now.tv_sec,
                });
            }
        }
        Ok(())
    }
}

/// The offsets of the caller's own time namespace against the host's
/// clocks, whole seconds (0 and 0 outside any time namespace).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shift {
    /// The monotonic clock's offset.
    pub monotonic: i64,
    /// The boot-time clock's offset.
    pub boottime: i64,
}

impl Shift {
    /// The caller's, read from `/proc/self/timens_offsets` (lines such as
    /// `boottime  -400  0`); none if it cannot be read (no time namespaces
    /// in this kernel: then there are no offsets either).
    pub fn of_caller() -> Shift {
        let mut buf = [0u8; 128];
        let why = "our own offsets: new ones are written relative to the host's clocks";
        let len = sys::open(OFFSETS, libc::O_RDONLY, why)
            .and_then(|file| sys::read(file.raw(), &mut buf))
            .unwrap_or(0);
        Shift::parse(&buf[..len])
    }

    fn parse(text: &[u8]) -> Shift {
        let mut shift = Shift::default();
        for line in text.split(|&b| b == b'\n') {
            let mut words = line
                .split(u8::is_ascii_whitespace)
                .filter(|w| !w.is_empty());
            let (Some(clock), Some(secs)) = (words.next(), words.next()) else {
                continue;
            };
            let secs = core::str::from_utf8(secs).ok().and_then(|s| s.parse().ok());
            match (clock, secs) {
                (b"monotonic", Some(secs)) => shift.monotonic = secs,
                (b"boottime", Some(secs)) => shift.boottime = secs,
                _ => {}
            }
        }
        shift
    }

    fn secs(self, clock: Clock) -> i64 {
        match clock {
            Clock::Monotonic => self.monotonic,
            Clock::Boottime => self.boottime,
        }
    }
}

/// An offset that would put its clock out of the kernel's range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetRefused {
    /// The clock.
    pub clock: Clock,
    /// The offset asked for, in seconds.
    pub offset: i64,
    /// The clock's value when it was checked, in whole seconds.
    pub now: i64,
}

impl fmt::Display for OffsetRefused {
    /// `--boottime -488: the boot-time clock reads 481 s; an offset may not
    /// make it negative`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let OffsetRefused { clock, offset, now } = *self;
        write!(
            f,
            "--{} {offset}: {} reads {now} s; ",
            clock.name(),
            clock.words()
        )?;
        if offset < 0 {
            f.write_str("an offset may not make it negative")
        } else {
            write!(
                f,
                "an offset may not push it past {CLOCK_MAX_SECS} s (about 146 years)"
            )
        }
    }
}

/// Write the offsets of the caller's `time_for_children`, which must still
/// be empty. Allocates nothing: the child calls it.
pub fn write_offsets(text: &[u8]) -> Result<(), Errno> {
    write_proc(
        OFFSETS,
        text,
        "clock offsets: writable only while no process is in the new time namespace",
    )
}

/// Whether execve(2) moves a process into its `time_for_children`, which
/// Linux does since 6.2 ("fs/exec: switch timens when a task gets a new
/// mm"). Decided from uname(2)'s release, such as `6.18.44-generic`.
pub fn exec_enters_time_namespace() -> bool {
    let Ok(uts) = sys::uname() else { return false };
    let release = uts.release.map(|c| c as u8);
    let len = release
        .iter()
        .position(|&c| c == 0)
        .unwrap_or(release.len());
    release_at_least(&release[..len], (6, 2))
}

/// Whether a kernel release string is at least `major.minor`.
fn release_at_least(release: &[u8], (major, minor): (u32, u32)) -> bool {
    let mut numbers = release
        .split(|&b| !b.is_ascii_digit())
        .map(|digits| core::str::from_utf8(digits).ok()?.parse::<u32>().ok());
    match (numbers.next().flatten(), numbers.next().flatten()) {
        (Some(a), Some(b)) => (a, b) >= (major, minor),
        _ => false,
    }
}

/// Why the launcher may not make a time namespace for its children.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LauncherRefused {
    /// It has more than one thread.
    Threads,
    /// Its `time_for_children` is already another namespace than its own.
    ForChildrenTaken,
}

/// Whether the launcher may make a time namespace for its children (see
/// the module documentation): it must be single-threaded, and its
/// `time_for_children` must be its own time namespace.
pub fn launcher_may_unshare() -> Result<(), LauncherRefused> {
    if !single_threaded() {
        return Err(LauncherRefused::Threads);
    }
    let own = NsId::of_self(Namespace::Time);
    let for_children = sys::stat(c"/proc/self/ns/time_for_children").map(|st| NsId::from_stat(&st));
    match (own, for_children) {
        (Ok(own), Ok(for_children)) if own != for_children => {
            Err(LauncherRefused::ForChildrenTaken)
        }
        // A lookup that fails here will fail again, as a step, below.
        _ => Ok(()),
    }
}

/// The launcher's steps around its time namespace, for errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Opening its `time_for_children`, to come back to it.
    OpenForChildren,
    /// unshare(CLONE_NEWTIME).
    Unshare,
    /// Writing the offsets.
    Offsets,
    /// setns(2) back to its old `time_for_children`.
    Restore,
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
    /// `text` (see [`ClockOffsets::text`]) as its offsets. The caller has
    /// checked [`launcher_may_unshare`].
    pub fn unshare(text: &[u8]) -> Result<ForChildren, (Step, Errno)> {
        let previous = sys::open(
            c"/proc/self/ns/time_for_children",
            libc::O_RDONLY,
            "kept open, to return to it with setns(2)",
        )
        .map_err(|e| (Step::OpenForChildren, e))?;
        sys::unshare(libc::CLONE_NEWTIME).map_err(|e| (Step::Unshare, e))?;
        let made = ForChildren {
            previous: Some(previous),
        };
        if !text.is_empty() {
            // On failure `made` is dropped, which restores.
            write_offsets(text).map_err(|e| (Step::Offsets, e))?;
        }
        Ok(made)
    }

    /// Return the launcher's `time_for_children` to what it was. setns(2)
    /// into a time namespace also moves the caller itself there, which here
    /// changes nothing: it is the namespace the caller is already in.
    pub fn restore(mut self) -> Result<(), (Step, Errno)> {
        match self.previous.take() {
            Some(previous) => {
                let why = "back to our old time_for_children: later children stay out";
                sys::setns(previous.raw(), libc::CLONE_NEWTIME, why).map_err(|e| (Step::Restore, e))
            }
            None => Ok(()),
        }
    }
}

impl Drop for ForChildren {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            let why = "undone: a step failed before clone";
            let _ = sys::setns(previous.raw(), libc::CLONE_NEWTIME, why);
        }
    }
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
        let none = Shift::default();
        assert_eq!(
            both.text(none).as_bytes(),
            b"monotonic 86400 0\nboottime -5 0\n"
        );
        let one = ClockOffsets {
            boottime: Some(7),
            ..ClockOffsets::default()
        };
        assert_eq!(one.text(none).as_bytes(), b"boottime 7 0\n");
        assert!(ClockOffsets::default().text(none).is_empty());
        assert!(ClockOffsets::default().is_empty() && !one.is_empty());
        let extreme = ClockOffsets {
            monotonic: Some(i64::MIN),
            boottime: Some(i64::MIN),
        };
        assert_eq!(
            extreme.text(none).as_bytes(),
            b"monotonic -9223372036854775808 0\nboottime -9223372036854775808 0\n"
        );
    }

    #[test]
    fn offsets_are_written_relative_to_the_callers_own() {
        let text = b"monotonic           0         0\nboottime         -400         0\n";
        let shift = Shift::parse(text);
        assert_eq!(
            shift,
            Shift {
                monotonic: 0,
                boottime: -400
            }
        );
        let offsets = ClockOffsets {
            boottime: Some(100),
            ..ClockOffsets::default()
        };
        assert_eq!(offsets.text(shift).as_bytes(), b"boottime -300 0\n");
        // This test's own, as the kernel shows them.
        let own = std::fs::read("/proc/self/timens_offsets").unwrap_or_default();
        assert_eq!(Shift::of_caller(), Shift::parse(&own));
    }

    #[test]
    fn offsets_are_checked_against_the_clocks_now() {
        // The boot-time clock read independently: /proc/uptime shows it.
        let uptime = || -> i64 {
            let text = std::fs::read_to_string("/proc/uptime").unwrap();
            let secs = text.split(['.', ' ']).next().unwrap();
            secs.parse().unwrap()
        };
        let boot = uptime();
        let too_far_back = ClockOffsets {
            boottime: Some(-(boot + 1000)),
            ..ClockOffsets::default()
        };
        let refused = too_far_back.check().unwrap_err();
        assert_eq!(
            (refused.clock, refused.offset),
            (Clock::Boottime, -(boot + 1000))
        );
        assert!(
            (refused.now - boot).abs() <= 5,
            "{refused:?} against {boot}"
        );
        assert_eq!(
            refused.to_string(),
            format!(
                "--boottime {}: the boot-time clock reads {} s; an offset may not make it negative",
                -(boot + 1000),
                refused.now
            )
        );
        let too_far_ahead = ClockOffsets {
            monotonic: Some(CLOCK_MAX_SECS),
            ..ClockOffsets::default()
        };
        assert_eq!(too_far_ahead.check().unwrap_err().clock, Clock::Monotonic);
        let fine = ClockOffsets {
            monotonic: Some(86400),
            boottime: Some(-(uptime() / 2)),
        };
        assert_eq!(fine.check(), Ok(()));
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
    fn a_multi_threaded_launcher_may_not_unshare_a_time_namespace() {
        // The test harness runs each test on a thread of its own; to be sure
        // of a second thread whatever the harness does, start one.
        let (stop, wait) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || wait.recv());
        assert_eq!(launcher_may_unshare(), Err(LauncherRefused::Threads));
        drop(stop);
        let _ = other.join();
    }
}
