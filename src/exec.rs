//! Exec: execvp's PATH search, written by hand over execve(2).
//!
//! The child runs the search itself ([`ExecPlan::exec`]), as glibc's
//! execvp(3) does, and like it allocates nothing: each path it tries is
//! built in a buffer on its stack. The rules, glibc's to the letter:
//!
//! - an empty name fails with `ENOENT`; a name containing `/` is executed as
//!   it is; a name longer than `NAME_MAX` (255 bytes) fails with
//!   `ENAMETOOLONG`;
//! - any other name is tried in each entry of `PATH` (of the environment
//!   the command gets; the parent looks it up before clone, the child only
//!   walks it), in order, as `ENTRY/NAME`; an empty entry means the current
//!   directory (the name alone); `PATH` unset means [`DEFAULT_PATH`]. An
//!   entry too long for the buffer (`PATH_MAX`) is passed over, and glibc's
//!   loop then tries the current directory once, an accident of its code
//!   that nsclone keeps, since it promises the same search;
//! - `ENOENT`, `ENOTDIR`, `ESTALE`, `ENODEV` and `ETIMEDOUT` mean "not here,
//!   try the next entry"; `EACCES` too, but it is remembered and reported if
//!   nothing else works; any other error stops the search;
//! - `ENOEXEC` (a file without `#!` or ELF header) runs the file with
//!   `/bin/sh`, and if that exec fails too its error decides as above.
//!
//! The command's `argv` and environment are handed to execve as they are:
//! for the nsclone command, the very arrays the kernel placed on its stack
//! (see [`crate::start`]); the environment is the process's `environ`.
//!
//! When the search fails, the child looks once more, at the file that
//! decided the outcome, where it looked ([`Diagnosis`]): a file that exists
//! although execve said `ENOENT` has a missing `#!` interpreter or ELF
//! loader; an `EACCES` is told apart by the file's mode, owner and mount.
//! The parent then words the message ([`ExecFailure`]).
//!
//! See execve(2), execvp(3), and POSIX's "Command Search and Execution".

use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::{CStr, c_char};
use core::fmt;
use core::marker::PhantomData;
use core::ptr;

use syscalls::Errno;

use crate::sys;
use crate::text::Quoted;
use crate::wait::{EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND};

/// The search path when `PATH` is unset: glibc's (`confstr(_CS_PATH)`).
pub const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

/// The longest file name, without its NUL (`NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// The longest path, with its NUL (`PATH_MAX`).
pub const PATH_MAX: usize = 4096;

/// The shell that runs files the kernel cannot execute by itself (ENOEXEC).
pub const SHELL: &CStr = c"/bin/sh";

/// Room for the longest path the search builds: an entry, `/`, the name,
/// the NUL.
const BUF: usize = PATH_MAX + 1 + NAME_MAX + 1;

unsafe extern "C" {
    /// The process's environment: set by the C runtime from the stack the
    /// kernel built, and in the nsclone binary, which has no C runtime, by
    /// its own start-up (src/main.rs, from what [`crate::start`] read).
    static environ: *const *const c_char;
}

/// The calling process's environment, `environ`, as execvp(3) passes it.
pub fn environment() -> *const *const c_char {
    // SAFETY: reading a pointer-sized global that the start-up code set.
    unsafe { environ }
}

/// The value of `name` in the NULL-terminated environment `envp`, as
/// getenv(3) finds it: the first entry that starts with `NAME=`.
///
/// # Safety
/// `envp` must be NULL or a NULL-terminated array of pointers to
/// NUL-terminated strings, valid for `'a`.
pub unsafe fn getenv<'a>(envp: *const *const c_char, name: &[u8]) -> Option<&'a [u8]> {
    if envp.is_null() {
        return None;
    }
    let mut i = 0;
    loop {
        // SAFETY: the array is NULL-terminated, and `i` stops there.
        let entry = unsafe { *envp.add(i) };
        if entry.is_null() {
            return None;
        }
        // SAFETY: each entry is a NUL-terminated string.
        let entry = unsafe { CStr::from_ptr(entry) }.to_bytes();
        if let Some(value) = entry
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(b"="))
        {
            return Some(value);
        }
        i += 1;
    }
}

/// One attempt of the search: the `PATH` entry it uses, or, for a name with
/// a `/`, the name alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt<'a> {
    /// The name as it was given (it contains a `/`).
    AsIs,
    /// A `PATH` entry; empty means the current directory.
    Entry(&'a [u8]),
}

/// The `PATH` entries execvp's loop tries for a name without `/`, in order
/// (see the module documentation for the one it passes over).
pub fn entries(path: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    // Entries may be at most this long, glibc's stack buffer's measure.
    let limit = path.len().min(PATH_MAX - 1) + 1;
    let mut at = Some(0);
    core::iter::from_fn(move || {
        loop {
            let start = at?;
            let end = path[start..]
                .iter()
                .position(|&b| b == b':')
                .map_or(path.len(), |i| start + i);
            let last = end == path.len();
            if end - start >= limit {
                // Too long: passed over. glibc goes on from the ':' itself,
                // which reads as one more, empty, entry.
                at = (!last).then_some(end);
                continue;
            }
            at = (!last).then_some(end + 1);
            return Some(&path[start..end]);
        }
    })
}

/// The path an attempt executes for `file`: the name alone, `ENTRY/NAME`,
/// or, for an empty entry, the name alone again (relative to the current
/// directory), as glibc joins them (it adds a `/` even after one).
fn join<'a>(attempt: Attempt<'a>, file: &'a [u8]) -> impl Iterator<Item = u8> + Clone + 'a {
    let dir: &[u8] = match attempt {
        Attempt::AsIs | Attempt::Entry(b"") => b"",
        Attempt::Entry(dir) => dir,
    };
    let slash: &[u8] = if dir.is_empty() { b"" } else { b"/" };
    dir.iter().chain(slash).chain(file).copied()
}

/// The path an attempt executes, for execve(2): the name itself when
/// [`join`] adds nothing to it (a name with `/`, which may be of any length,
/// or an empty entry), else [`join`] written into `buf` with a NUL. That
/// fits: entries are shorter than `PATH_MAX` ([`entries`]), and searched
/// names at most `NAME_MAX` ([`attempts`]).
fn compose<'b>(buf: &'b mut [u8; BUF], attempt: Attempt<'_>, file: &'b CStr) -> &'b CStr {
    if let Attempt::AsIs | Attempt::Entry(b"") = attempt {
        return file;
    }
    let mut len = 0;
    for (dst, b) in buf.iter_mut().zip(join(attempt, file.to_bytes())) {
        *dst = b;
        len += 1;
    }
    buf[len] = 0;
    // The name and the entries contain no NUL: they come from C strings.
    CStr::from_bytes_until_nul(&buf[..=len]).unwrap_or(c"")
}

/// The paths the search would try for `file` under `path` (the value of
/// `PATH`, `None` when unset), in order: for messages, and for tests.
pub fn candidates(file: &[u8], path: Option<&[u8]>) -> Vec<Vec<u8>> {
    attempts(file, path.unwrap_or(DEFAULT_PATH))
        .map(|attempt| join(attempt, file).collect())
        .collect()
}

/// The attempts for `file`, or none when the name itself is refused.
fn attempts<'a>(file: &'a [u8], path: &'a [u8]) -> impl Iterator<Item = Attempt<'a>> {
    let as_is = file.contains(&b'/');
    let searched = !as_is && !file.is_empty() && file.len() <= NAME_MAX;
    as_is
        .then_some(Attempt::AsIs)
        .into_iter()
        .chain(entries(path).filter(move |_| searched).map(Attempt::Entry))
}

/// Why the exec step failed, as the child reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecFailure {
    /// The errno that decided the outcome.
    pub errno: Errno,
    /// The attempt it came from, counted from 0 in search order; `None`
    /// when no path was tried.
    pub candidate: Option<u32>,
    /// What the child found when it looked at that file.
    pub diagnosis: Diagnosis,
}

/// What the child found, after a failed search, at the file that decided
/// the outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diagnosis {
    /// Nothing more to say than the errno.
    None,
    /// `ENOENT`, yet the file exists: its `#!` interpreter or ELF loader is
    /// what is missing. Holds the file's first bytes.
    InterpreterMissing(Head),
    /// `EACCES`: what the file is, as stat(2) and statfs(2) saw it.
    Denied {
        /// `st_mode`: type and permission bits.
        mode: u32,
        /// `st_uid`: the owner, as this user namespace shows it.
        uid: u32,
        /// Whether its file system is mounted `noexec`.
        noexec: bool,
    },
    /// `EACCES`, and stat(2) itself was refused: a directory on the path
    /// cannot be searched.
    PathDenied,
}

/// The first bytes of a file, enough for its `#!` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// How many of `bytes` were read.
    pub len: u8,
    /// The bytes.
    pub bytes: [u8; Head::SIZE],
}

impl Head {
    /// How many bytes are read.
    pub const SIZE: usize = 128;

    /// The bytes read.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl ExecFailure {
    /// The exit code, as env(1) gives it: 127 when no file was found, 126
    /// when one was found but could not be executed (a missing interpreter
    /// counts as found, as in bash).
    pub fn exit_code(&self) -> i32 {
        match (self.errno, self.diagnosis) {
            (Errno::ENOENT, Diagnosis::None) => EXIT_NOT_FOUND,
            _ => EXIT_CANNOT_EXECUTE,
        }
    }
}

/// Why the file could not be executed, in words, from the errno and what
/// the child found: `it has no execute permission (chmod +x)`.
pub struct Reason<'a>(pub &'a ExecFailure);

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failure = self.0;
        match failure.diagnosis {
            Diagnosis::InterpreterMissing(head) => interpreter(f, head.as_bytes()),
            Diagnosis::Denied { mode, uid, noexec } => match mode & libc::S_IFMT {
                libc::S_IFDIR => f.write_str("it is a directory"),
                libc::S_IFREG if mode & 0o111 == 0 => {
                    f.write_str("it has no execute permission (chmod +x)")
                }
                libc::S_IFREG if noexec => {
                    f.write_str("the file system it is on is mounted noexec")
                }
                libc::S_IFREG => write!(
                    f,
                    "no execute permission for this user (mode {:04o}, owner uid {uid})",
                    mode & 0o7777
                ),
                _ => f.write_str("it is not a regular file"),
            },
            Diagnosis::PathDenied => {
                f.write_str("a directory on its path may not be searched by this user")
            }
            Diagnosis::None => f.write_str(match failure.errno {
                Errno::ENOENT => "command not found",
                Errno::ENOTDIR => "a component of its path is not a directory",
                Errno::ENOEXEC => "the kernel cannot run this format, and neither could /bin/sh",
                Errno::ENAMETOOLONG => "a name is at most 255 bytes, a path 4095",
                Errno::ELOOP => "too many symbolic links on its path",
                Errno::ETXTBSY => "it is open for writing",
                Errno::E2BIG => "its arguments and environment are too long",
                _ => "cannot execute",
            }),
        }
    }
}

/// The file exists, yet execve said ENOENT: name what is missing.
fn interpreter(f: &mut fmt::Formatter<'_>, head: &[u8]) -> fmt::Result {
    if let Some(line) = head.strip_prefix(b"#!") {
        let line = line.split(|&b| b == b'\n').next().unwrap_or_default();
        let interpreter = line
            .split(|b| b.is_ascii_whitespace())
            .find(|w| !w.is_empty())
            .unwrap_or_default();
        write!(
            f,
            "its interpreter {} (the #! line) does not exist",
            Quoted(interpreter)
        )
    } else if head.starts_with(b"\x7fELF") {
        f.write_str("its ELF interpreter (the dynamic loader named in the binary) does not exist")
    } else {
        f.write_str("the file exists, so its interpreter or loader is missing")
    }
}

/// A command's argument array, as execve(2) takes it.
pub enum Argv {
    /// Strings the command owns (a library caller's), and the array of
    /// pointers into them.
    Owned {
        /// The strings, `argv[0]` first.
        strings: Vec<CString>,
        /// Pointers to each, then NULL.
        ptrs: Vec<*const c_char>,
    },
    /// An array someone else owns: the nsclone command's own `argv`, from
    /// its first word on, as the kernel placed it on the stack.
    Borrowed(*const *const c_char),
}

impl Argv {
    /// An owned array of `words`, or the first word with a NUL byte, which
    /// execve(2) cannot pass (a C string ends at its first NUL).
    pub fn owned<'w>(words: impl IntoIterator<Item = &'w [u8]>) -> Result<Argv, &'w [u8]> {
        let strings = words
            .into_iter()
            .map(|w| CString::new(w).map_err(|_| w))
            .collect::<Result<Vec<_>, _>>()?;
        let mut ptrs: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(ptr::null());
        Ok(Argv::Owned { strings, ptrs })
    }

    /// The NULL-terminated array.
    pub fn as_ptr(&self) -> *const *const c_char {
        match self {
            Argv::Owned { ptrs, .. } => ptrs.as_ptr(),
            Argv::Borrowed(argv) => *argv,
        }
    }

    /// The words, `argv[0]` first.
    pub fn words(&self) -> RawWords<'_> {
        // SAFETY: the array is NULL-terminated and lives as long as `self`
        // (see `Argv::Borrowed`).
        unsafe { RawWords::new(self.as_ptr()) }
    }

    /// The program's name, `argv[0]` (empty if there is none).
    pub fn program(&self) -> &[u8] {
        self.file().to_bytes()
    }

    /// `argv[0]` as the C string execve(2) takes (empty if there is none).
    pub fn file(&self) -> &CStr {
        // SAFETY: the array is NULL-terminated and lives as long as `self`
        // (see `Argv::Borrowed`); its first entry, unless NULL, is a
        // NUL-terminated string.
        unsafe {
            match *self.as_ptr() {
                first if first.is_null() => c"",
                first => CStr::from_ptr(first),
            }
        }
    }
}

/// The strings of a NULL-terminated array of C strings, as bytes.
#[derive(Clone, Copy, Debug)]
pub struct RawWords<'a> {
    next: *const *const c_char,
    _strings: PhantomData<&'a [u8]>,
}

impl RawWords<'_> {
    /// The words of `argv`.
    ///
    /// # Safety
    /// `argv` must be a NULL-terminated array of pointers to NUL-terminated
    /// strings, valid and unchanged for the iterator's lifetime.
    pub unsafe fn new(argv: *const *const c_char) -> Self {
        RawWords {
            next: argv,
            _strings: PhantomData,
        }
    }
}

impl<'a> Iterator for RawWords<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // SAFETY: `new`'s contract: `next` points into the array, at most at
        // its NULL, where iteration stops.
        let word = unsafe { *self.next };
        if word.is_null() {
            return None;
        }
        // SAFETY: as above; the entry is a NUL-terminated string.
        self.next = unsafe { self.next.add(1) };
        // SAFETY: as above.
        Some(unsafe { CStr::from_ptr(word) }.to_bytes())
    }
}

/// Everything the child needs to exec, prepared by the parent before clone:
/// the command's `argv`, and for `ENOEXEC` the shell's.
pub struct ExecPlan<'a> {
    argv: &'a Argv,
    /// `argv[0]`, the name to search for.
    file: &'a CStr,
    /// The environment the command gets.
    envp: *const *const c_char,
    /// Its `PATH`, or [`DEFAULT_PATH`] when unset.
    path: &'a [u8],
    /// `/bin/sh`, a slot for the file, `argv[1..]`, NULL.
    sh_argv: Vec<*const c_char>,
}

impl<'a> ExecPlan<'a> {
    /// The program's name, `argv[0]`.
    pub fn program(&self) -> &[u8] {
        self.file.to_bytes()
    }

    /// The path that attempt `index` of the search executes (counted as
    /// [`ExecFailure::candidate`] counts), for messages.
    pub fn candidate(&self, index: u32) -> Option<Vec<u8>> {
        let file = self.program();
        let attempt = attempts(file, self.path).nth(index as usize)?;
        Some(join(attempt, file).collect())
    }

    /// Prepare to exec `argv` (whose `argv[0]` is the program's name) with
    /// the process's environment, as execvp(3) does.
    pub fn new(argv: &'a Argv) -> ExecPlan<'a> {
        // SAFETY: `environ` is the process's NULL-terminated environment.
        unsafe { ExecPlan::with_environment(argv, environment()) }
    }

    /// Prepare to exec `argv` with the environment `envp` instead.
    ///
    /// # Safety
    /// `envp` must be a NULL-terminated array of pointers to NUL-terminated
    /// strings, valid while the plan lives.
    pub unsafe fn with_environment(argv: &'a Argv, envp: *const *const c_char) -> ExecPlan<'a> {
        let words = argv.words().count();
        // SAFETY: the array holds `words` strings then NULL; past argv[0],
        // if there is one, are the other strings and the NULL.
        let tail =
            unsafe { core::slice::from_raw_parts(argv.as_ptr().add(words.min(1)), words.max(1)) };
        let mut sh_argv = Vec::with_capacity(2 + tail.len());
        sh_argv.extend([SHELL.as_ptr(), ptr::null()]);
        sh_argv.extend_from_slice(tail);
        ExecPlan {
            argv,
            file: argv.file(),
            envp,
            // SAFETY: the caller's promise on `envp`.
            path: unsafe { getenv(envp, b"PATH") }.unwrap_or(DEFAULT_PATH),
            sh_argv,
        }
    }

    /// Run in the child: exec the first candidate that works. Returns only
    /// if none did, with the error that decides the exit code and what the
    /// child found about it.
    ///
    /// Allocates nothing. It writes one thing, and only for `ENOEXEC`: the
    /// file's path into slot 1 of the plan's `sh_argv`. In vfork style
    /// (`CLONE_VM`) that slot is the parent's memory, which is sound: the
    /// parent is asleep in clone until this child has exec'd or exited, the
    /// buffer was allocated before clone and is not resized, and the parent
    /// never reads `sh_argv` afterwards (it only drops it). The path itself
    /// is on the child's stack, which exec leaves behind.
    pub fn exec(&mut self) -> ExecFailure {
        let (file, path) = (self.file.to_bytes(), self.path);
        let mut buf = [0u8; BUF];
        // The last attempt's answer, the first EACCES, and an error that
        // stops the search at once (it wins over an earlier EACCES).
        let (mut last, mut denied, mut stop) = (None, None, None);
        for (index, attempt) in attempts(file, path).enumerate() {
            let candidate = compose(&mut buf, attempt, self.file);
            let mut errno = self.execve(candidate);
            if errno == Errno::ENOEXEC {
                self.sh_argv[1] = candidate.as_ptr();
                // SAFETY: sh_argv is a NULL-terminated array of strings that
                // outlive the call: the shell, the candidate, argv's tail.
                errno = unsafe { sys::execve(SHELL, self.sh_argv.as_ptr(), self.envp) };
            }
            last = Some((errno, index as u32));
            match errno {
                _ if attempt == Attempt::AsIs => stop = last,
                Errno::EACCES => denied = denied.or(last),
                Errno::ENOENT | Errno::ENOTDIR | Errno::ESTALE | Errno::ENODEV => {}
                Errno::ETIMEDOUT => {}
                _ => stop = last,
            }
            if stop.is_some() {
                break;
            }
        }
        let (errno, candidate) = match stop.or(denied).or(last) {
            Some((errno, index)) => (errno, Some(index)),
            None if file.len() > NAME_MAX && !file.contains(&b'/') => (Errno::ENAMETOOLONG, None),
            None => (Errno::ENOENT, None),
        };
        let (candidate, diagnosis) = match errno {
            Errno::ENOENT => match find_existing(self.file, path, &mut buf) {
                Some((index, head)) => (Some(index), Diagnosis::InterpreterMissing(head)),
                None => (candidate, Diagnosis::None),
            },
            Errno::EACCES => {
                let attempt = candidate.and_then(|i| attempts(file, path).nth(i as usize));
                let why = attempt.map(|a| denied_why(compose(&mut buf, a, self.file)));
                (candidate, why.unwrap_or(Diagnosis::None))
            }
            _ => (candidate, Diagnosis::None),
        };
        ExecFailure {
            errno,
            candidate,
            diagnosis,
        }
    }

    fn execve(&self, path: &CStr) -> Errno {
        // SAFETY: argv and envp are NULL-terminated arrays of strings that
        // live as long as the plan.
        unsafe { sys::execve(path, self.argv.as_ptr(), self.envp) }
    }
}

/// After a search that ended in `ENOENT`: the first candidate that exists as
/// a regular file, and its first bytes. execve said `ENOENT` for it although
/// it is there, so what is missing is its interpreter or loader. Run by the
/// child, where it searched (another mount namespace, another `/proc`).
fn find_existing(file: &CStr, path: &[u8], buf: &mut [u8; BUF]) -> Option<(u32, Head)> {
    for (index, attempt) in attempts(file.to_bytes(), path).enumerate() {
        let candidate = compose(buf, attempt, file);
        let Ok(st) = sys::stat(candidate) else {
            continue;
        };
        if st.st_mode & libc::S_IFMT != libc::S_IFREG {
            continue;
        }
        let mut head = Head {
            len: 0,
            bytes: [0; Head::SIZE],
        };
        let why = "the file exists: read its first line, to name what is missing";
        if let Ok(fd) = sys::open(candidate, libc::O_RDONLY, why) {
            head.len = sys::read(fd.raw(), &mut head.bytes).unwrap_or(0) as u8;
        }
        return Some((index as u32, head));
    }
    None
}

/// After `EACCES` on `path`: what the file is, and where it is mounted.
fn denied_why(path: &CStr) -> Diagnosis {
    match sys::stat(path) {
        Ok(st) => Diagnosis::Denied {
            mode: st.st_mode,
            uid: st.st_uid,
            noexec: sys::statfs(path).is_ok_and(|sfs| sfs.f_flags as u64 & libc::ST_NOEXEC != 0),
        },
        Err(_) => Diagnosis::PathDenied,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(paths: Vec<Vec<u8>>) -> Vec<String> {
        paths
            .into_iter()
            .map(|p| String::from_utf8(p).unwrap())
            .collect()
    }

    #[test]
    fn a_name_with_a_slash_is_used_as_is() {
        assert_eq!(
            strings(candidates(b"./run.sh", Some(b"/bin"))),
            ["./run.sh"]
        );
        assert_eq!(strings(candidates(b"/bin/sh", None)), ["/bin/sh"]);
    }

    #[test]
    fn path_entries_are_tried_in_order_as_glibc_joins_them() {
        let found = candidates(b"ls", Some(b"/usr/local/bin:/usr/bin/:/bin"));
        // glibc adds a '/' whatever the entry ends with.
        assert_eq!(
            strings(found),
            ["/usr/local/bin/ls", "/usr/bin//ls", "/bin/ls"]
        );
    }

    #[test]
    fn an_empty_entry_means_the_current_directory() {
        assert_eq!(
            strings(candidates(b"ls", Some(b":/bin:"))),
            ["ls", "/bin/ls", "ls"]
        );
        assert_eq!(strings(candidates(b"ls", Some(b""))), ["ls"]);
    }

    #[test]
    fn unset_path_uses_glibcs_default() {
        assert_eq!(strings(candidates(b"sh", None)), ["/bin/sh", "/usr/bin/sh"]);
    }

    #[test]
    fn names_that_cannot_be_searched_have_no_candidates() {
        assert!(candidates(b"", Some(b"/bin")).is_empty());
        assert!(candidates(&[b'x'; NAME_MAX + 1], Some(b"/bin")).is_empty());
        assert_eq!(candidates(&[b'x'; NAME_MAX], Some(b"/bin")).len(), 1);
    }

    #[test]
    fn an_entry_longer_than_path_max_is_passed_over_as_glibc_does() {
        let long = [b'a'; PATH_MAX];
        let path = [&b"/"[..], &long, b":/usr/bin"].concat();
        // glibc's loop lands on the ':' after the long entry, which it
        // takes for an empty one: the current directory.
        assert_eq!(
            strings(candidates(b"true", Some(&path))),
            ["true", "/usr/bin/true"]
        );
        let last = [&b"/usr/bin:/"[..], &long].concat();
        assert_eq!(strings(candidates(b"true", Some(&last))), ["/usr/bin/true"]);
        // A PATH shorter than PATH_MAX has no entry too long.
        assert_eq!(candidates(b"true", Some(&long[..100])).len(), 1);
    }

    #[test]
    fn a_name_with_a_slash_goes_to_execve_whole_however_long() {
        // The kernel, not the search's buffer, judges such a name: a path of
        // PATH_MAX bytes or more is ENAMETOOLONG.
        let name = [&b"/"[..], &[b'a'; BUF]].concat();
        let argv = Argv::owned([&name[..]]).unwrap();
        let envp = [ptr::null()];
        // SAFETY: an empty, NULL-terminated environment.
        let mut plan = unsafe { ExecPlan::with_environment(&argv, envp.as_ptr()) };
        let failure = plan.exec();
        assert_eq!(failure.errno, Errno::ENAMETOOLONG);
        assert_eq!(failure.candidate, Some(0));
    }

    #[test]
    fn the_shells_argv_is_sh_a_slot_for_the_file_then_the_arguments() {
        let lists: [&[&[u8]]; 3] = [&[], &[b"prog"], &[b"prog", b"-a", b"b"]];
        for words in lists {
            let argv = Argv::owned(words.iter().copied()).unwrap();
            let envp = [ptr::null()];
            // SAFETY: an empty, NULL-terminated environment.
            let plan = unsafe { ExecPlan::with_environment(&argv, envp.as_ptr()) };
            // SAFETY: a NULL-terminated array of the argv's own strings.
            let rest: Vec<_> = unsafe { RawWords::new(plan.sh_argv[2..].as_ptr()) }.collect();
            assert_eq!(plan.sh_argv[0], SHELL.as_ptr());
            assert_eq!(rest, words.get(1..).unwrap_or_default(), "{words:?}");
            assert_eq!(plan.sh_argv.len(), 2 + words.len().max(1));
        }
    }

    #[test]
    fn getenv_finds_the_first_entry_with_the_name() {
        let env = [
            c"PATHX=no".as_ptr(),
            c"NOEQUALS".as_ptr(),
            c"PATH=/one".as_ptr(),
            c"PATH=/two".as_ptr(),
            ptr::null(),
        ];
        // SAFETY: a NULL-terminated array of C string literals.
        assert_eq!(unsafe { getenv(env.as_ptr(), b"PATH") }, Some(&b"/one"[..]));
        assert_eq!(unsafe { getenv(env.as_ptr(), b"HOME") }, None);
        assert_eq!(unsafe { getenv(ptr::null(), b"PATH") }, None);
    }

    #[test]
    fn exit_codes_follow_env() {
        let failure = |errno, diagnosis| ExecFailure {
            errno,
            candidate: Some(0),
            diagnosis,
        };
        let head = Head {
            len: 0,
            bytes: [0; Head::SIZE],
        };
        assert_eq!(failure(Errno::ENOENT, Diagnosis::None).exit_code(), 127);
        assert_eq!(failure(Errno::ENOTDIR, Diagnosis::None).exit_code(), 126);
        let missing = Diagnosis::InterpreterMissing(head);
        assert_eq!(failure(Errno::ENOENT, missing).exit_code(), 126);
        assert_eq!(failure(Errno::EACCES, Diagnosis::None).exit_code(), 126);
        assert_eq!(failure(Errno::ENOEXEC, Diagnosis::None).exit_code(), 126);
    }

    #[test]
    fn reasons_follow_what_the_child_found() {
        let reason = |errno, diagnosis| {
            Reason(&ExecFailure {
                errno,
                candidate: Some(0),
                diagnosis,
            })
            .to_string()
        };
        let denied = |mode, noexec| Diagnosis::Denied {
            mode,
            uid: 0,
            noexec,
        };
        let eacces = Errno::EACCES;
        assert_eq!(reason(eacces, denied(0o040755, false)), "it is a directory");
        assert_eq!(
            reason(eacces, denied(0o100644, false)),
            "it has no execute permission (chmod +x)"
        );
        assert_eq!(
            reason(eacces, denied(0o100755, true)),
            "the file system it is on is mounted noexec"
        );
        assert_eq!(
            reason(eacces, denied(0o100744, false)),
            "no execute permission for this user (mode 0744, owner uid 0)"
        );
        assert_eq!(
            reason(eacces, denied(0o020666, false)),
            "it is not a regular file"
        );
        let head = |text: &[u8]| {
            let mut bytes = [0; Head::SIZE];
            bytes[..text.len()].copy_from_slice(text);
            Diagnosis::InterpreterMissing(Head {
                len: text.len() as u8,
                bytes,
            })
        };
        assert_eq!(
            reason(Errno::ENOENT, head(b"#!  /no/such/sh -e\necho\n")),
            "its interpreter \"/no/such/sh\" (the #! line) does not exist"
        );
        assert!(reason(Errno::ENOENT, head(b"\x7fELF\x02\x01")).starts_with("its ELF interpreter"));
        assert_eq!(reason(Errno::ENOENT, Diagnosis::None), "command not found");
        assert!(reason(Errno::ENOTDIR, Diagnosis::None).contains("not a directory"));
    }
}
