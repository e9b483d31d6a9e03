//! Exec: execvp's PATH search, written by hand over execve(2).
//!
//! The child may not allocate, so the parent prepares everything before
//! clone ([`ExecPlan::new`]): the argument and environment arrays as C
//! strings, and every path the search may try. The child then only walks
//! that list ([`ExecPlan::exec`]):
//!
//! - a name containing `/` is executed as it is; any other is looked up in
//!   each `PATH` entry in order, an empty entry meaning the current
//!   directory, and [`DEFAULT_PATH`] when `PATH` is unset;
//! - `ENOENT` and `ENOTDIR` mean "not here, try the next entry"; `EACCES`
//!   is remembered and reported if nothing else works; any other error stops
//!   the search;
//! - `ENOEXEC` (a file without `#!` or ELF header) runs the file with
//!   `/bin/sh`, as execvp does.
//!
//! A search that ends in `ENOENT` although one of the candidates exists
//! means that file's interpreter (its `#!` line, or an ELF binary's loader)
//! is missing. The parent finds that out afterwards
//! ([`ExecPlan::existing_candidate`]), so that the child's search stays
//! execvp's, one execve per candidate and nothing else.
//!
//! See execve(2), execvp(3), and POSIX's "Command Search and Execution".

use core::ffi::c_char;
use core::ptr;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use syscalls::Errno;

use crate::sys;

/// The search path used when `PATH` is unset, as musl's execvp does.
pub const DEFAULT_PATH: &[u8] = b"/usr/local/bin:/bin:/usr/bin";

/// The shell that runs files the kernel cannot execute by itself (ENOEXEC).
const SHELL: &CStr = c"/bin/sh";

/// Exit code for a command that was not found (GNU env, POSIX shells).
pub const EXIT_NOT_FOUND: i32 = 127;
/// Exit code for a command that was found but could not be executed.
pub const EXIT_CANNOT_EXECUTE: i32 = 126;

/// The paths execvp would try for `program`, in order.
///
/// `path` is the value of `PATH`, or `None` when it is unset. An empty name
/// yields no candidate at all (execvp fails with ENOENT).
pub fn candidates(program: &[u8], path: Option<&[u8]>) -> Vec<Vec<u8>> {
    if program.is_empty() {
        return Vec::new();
    }
    if program.contains(&b'/') {
        return vec![program.to_vec()];
    }
    path.unwrap_or(DEFAULT_PATH)
        .split(|&b| b == b':')
        .map(|dir| {
            let dir = if dir.is_empty() { &b"."[..] } else { dir };
            let slash = if dir.ends_with(b"/") { "" } else { "/" };
            [dir, slash.as_bytes(), program].concat()
        })
        .collect()
}

/// Why the exec step failed, as the child reports it: the error, and which
/// candidate path it belongs to (an index into the plan's candidates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecFailure {
    /// The errno that decided the outcome.
    pub errno: Errno,
    /// The candidate it came from; `None` when there was no candidate.
    pub candidate: Option<usize>,
    /// ENOENT although the file exists: its `#!` interpreter or ELF loader
    /// is what is missing. Set by the parent, which looks at the candidates
    /// after the child has reported ([`ExecPlan::existing_candidate`]).
    pub interpreter_missing: bool,
}

impl ExecFailure {
    /// The exit code conventions give this failure: 127 when no file was
    /// found, 126 when one was found but could not be executed.
    pub fn exit_code(&self) -> i32 {
        match self.errno {
            Errno::ENOENT | Errno::ENOTDIR if !self.interpreter_missing => EXIT_NOT_FOUND,
            _ => EXIT_CANNOT_EXECUTE,
        }
    }
}

/// Why the file at `path` could not be executed, found by looking at it
/// after the child reported `failure`: the parent does this, for the
/// message, since the child may not allocate or read files at leisure.
/// It looks with the traced calls of [`sys`], so `--trace` shows it too.
/// `None` when there is nothing more to say than the errno.
pub fn explain(path: &CStr, failure: &ExecFailure) -> Option<String> {
    if failure.interpreter_missing {
        return Some(explain_interpreter(path));
    }
    match failure.errno {
        Errno::EACCES => {
            let mode = sys::stat(path).ok()?.st_mode;
            Some(if mode & libc::S_IFMT == libc::S_IFDIR {
                "it is a directory".into()
            } else if mode & libc::S_IFMT != libc::S_IFREG {
                "it is not a regular file".into()
            } else if mode & 0o111 == 0 {
                "it has no execute permission (chmod +x)".into()
            } else {
                "permission denied: the file system may be mounted noexec".into()
            })
        }
        Errno::ENOEXEC => Some(format!(
            "the kernel cannot run this format, and neither could {}",
            SHELL.to_string_lossy()
        )),
        _ => None,
    }
}

/// The file exists, yet execve said ENOENT: name what is missing.
fn explain_interpreter(path: &CStr) -> String {
    let mut head = [0u8; 256];
    let len = sys::open(path, libc::O_RDONLY)
        .and_then(|file| sys::read(file.raw(), &mut head))
        .unwrap_or(0);
    let head = &head[..len];
    if let Some(line) = head.strip_prefix(b"#!") {
        let line = line.split(|&b| b == b'\n').next().unwrap_or_default();
        let interpreter = line
            .split(|b| b.is_ascii_whitespace())
            .find(|w| !w.is_empty())
            .unwrap_or_default();
        let interpreter = String::from_utf8_lossy(interpreter);
        format!("its interpreter {interpreter:?} (the #! line) does not exist")
    } else if head.starts_with(b"\x7fELF") {
        "its ELF interpreter (the dynamic loader named in the binary) does not exist".into()
    } else {
        "the file exists, so its interpreter or loader is missing".into()
    }
}

/// Whether `path` is a regular file (stat(2) follows symbolic links).
fn is_file(path: &CStr) -> bool {
    sys::stat(path).is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFREG)
}

/// Everything the child needs to exec, prepared by the parent before clone.
pub struct ExecPlan {
    /// The command's name, as given (for messages).
    program: OsString,
    /// Every path to try, in order.
    candidates: Vec<CString>,
    /// Owners of the strings that `argv` and `envp` point into.
    _strings: Vec<CString>,
    /// `argv[0..n]` then NULL.
    argv: Vec<*const c_char>,
    /// The environment as `NAME=value` strings, then NULL.
    envp: Vec<*const c_char>,
    /// For ENOEXEC: `/bin/sh`, a slot for the file, `argv[1..]`, NULL.
    sh_argv: Vec<*const c_char>,
}

/// An argument that cannot be passed to execve because it contains a NUL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NulError(pub OsString);

impl ExecPlan {
    /// Prepare to exec `program` with `args` (without `argv[0]`, which is the
    /// program's name as given) and the environment `env`, searching `path`
    /// (the value of `PATH`, `None` if unset).
    pub fn new<I>(
        program: &OsStr,
        args: &[OsString],
        env: I,
        path: Option<&OsStr>,
    ) -> Result<ExecPlan, NulError>
    where
        I: IntoIterator<Item = (OsString, OsString)>,
    {
        let c = |s: &OsStr| CString::new(s.as_bytes()).map_err(|_| NulError(s.to_owned()));
        let candidates = candidates(program.as_bytes(), path.map(OsStr::as_bytes))
            .into_iter()
            .map(|p| CString::new(p).map_err(|_| NulError(program.to_owned())))
            .collect::<Result<Vec<_>, _>>()?;
        let argv_strings = std::iter::once(program)
            .chain(args.iter().map(OsString::as_os_str))
            .map(c)
            .collect::<Result<Vec<_>, _>>()?;
        let env_strings = env
            .into_iter()
            .map(|(name, value)| {
                let mut pair = name;
                pair.push("=");
                pair.push(value);
                c(&pair)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let null_terminated = |strings: &[CString]| {
            let mut ptrs: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
            ptrs.push(ptr::null());
            ptrs
        };
        let argv = null_terminated(&argv_strings);
        let envp = null_terminated(&env_strings);
        let mut sh_argv = vec![SHELL.as_ptr(), ptr::null()];
        sh_argv.extend_from_slice(&argv[1..]);
        Ok(ExecPlan {
            program: program.to_owned(),
            candidates,
            _strings: argv_strings.into_iter().chain(env_strings).collect(),
            argv,
            envp,
            sh_argv,
        })
    }

    /// The command's name as given.
    pub fn program(&self) -> &OsStr {
        &self.program
    }

    /// In the parent, after the child's search ended in `ENOENT`: the first
    /// candidate that exists as a file. execve said ENOENT for it although
    /// it is there, so what is missing is its interpreter or loader.
    pub fn existing_candidate(&self) -> Option<usize> {
        self.candidates.iter().position(|path| is_file(path))
    }

    /// The candidate path at `index`, for messages.
    pub fn candidate(&self, index: usize) -> Option<&CStr> {
        self.candidates.get(index).map(CString::as_c_str)
    }

    /// Run in the child: exec the first candidate that works. Returns only
    /// if none did, with the error that decides the exit code.
    ///
    /// Allocates nothing. It writes one thing, and only for `ENOEXEC`: the
    /// file's path into slot 1 of the plan's `sh_argv`. In vfork style
    /// (`CLONE_VM`) that slot is the parent's memory, which is sound: the
    /// parent is asleep in clone until this child has exec'd or exited, the
    /// buffer was allocated before clone and is not resized, the pointer
    /// written is to a candidate the plan owns, and the parent never reads
    /// `sh_argv` afterwards (it only drops it).
    pub fn exec(&mut self) -> ExecFailure {
        let mut outcome = ExecFailure {
            errno: Errno::ENOENT,
            candidate: None,
            interpreter_missing: false,
        };
        let mut seen_eacces = None;
        for (index, path) in self.candidates.iter().enumerate() {
            // SAFETY: argv and envp are NULL-terminated arrays of pointers
            // into `_strings`, which lives as long as the plan.
            let errno = unsafe { sys::execve(path, self.argv.as_ptr(), self.envp.as_ptr()) };
            outcome = ExecFailure {
                errno,
                candidate: Some(index),
                interpreter_missing: false,
            };
            match errno {
                Errno::EACCES => seen_eacces = seen_eacces.or(Some(outcome)),
                Errno::ENOENT | Errno::ENOTDIR => {}
                Errno::ENOEXEC => {
                    self.sh_argv[1] = path.as_ptr();
                    // SAFETY: as above; sh_argv is NULL-terminated too.
                    unsafe { sys::execve(SHELL, self.sh_argv.as_ptr(), self.envp.as_ptr()) };
                    return outcome;
                }
                _ => return outcome,
            }
        }
        seen_eacces.unwrap_or(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

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
    fn path_entries_are_tried_in_order() {
        let found = candidates(b"ls", Some(b"/usr/local/bin:/usr/bin/:/bin"));
        assert_eq!(
            strings(found),
            ["/usr/local/bin/ls", "/usr/bin/ls", "/bin/ls"]
        );
    }

    #[test]
    fn an_empty_entry_means_the_current_directory() {
        assert_eq!(
            strings(candidates(b"ls", Some(b":/bin:"))),
            ["./ls", "/bin/ls", "./ls"]
        );
        assert_eq!(strings(candidates(b"ls", Some(b""))), ["./ls"]);
    }

    #[test]
    fn unset_path_uses_the_default() {
        let found = candidates(b"sh", None);
        assert_eq!(
            strings(found),
            ["/usr/local/bin/sh", "/bin/sh", "/usr/bin/sh"]
        );
    }

    #[test]
    fn an_empty_name_has_no_candidates() {
        assert!(candidates(b"", Some(b"/bin")).is_empty());
    }

    #[test]
    fn exit_codes_follow_the_conventions() {
        let failure = |errno, interpreter_missing| ExecFailure {
            errno,
            candidate: Some(0),
            interpreter_missing,
        };
        assert_eq!(failure(Errno::ENOENT, false).exit_code(), 127);
        assert_eq!(failure(Errno::ENOTDIR, false).exit_code(), 127);
        assert_eq!(failure(Errno::ENOENT, true).exit_code(), 126);
        assert_eq!(failure(Errno::EACCES, false).exit_code(), 126);
        assert_eq!(failure(Errno::ENOEXEC, false).exit_code(), 126);
    }

    #[test]
    fn arguments_with_nul_are_refused() {
        let bad = OsString::from("a\0b");
        let plan = ExecPlan::new(OsStr::new("true"), std::slice::from_ref(&bad), [], None);
        assert_eq!(plan.err(), Some(NulError(bad)));
    }

    #[test]
    fn failures_are_explained_by_what_the_file_is() {
        use std::os::unix::fs::PermissionsExt;

        let dir = std::env::temp_dir().join(format!("nsclone-explain-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str, text: &[u8], mode: u32| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            CString::new(path.into_os_string().into_vec()).unwrap()
        };
        let failure = |errno, interpreter_missing| ExecFailure {
            errno,
            candidate: Some(0),
            interpreter_missing,
        };
        let eacces = failure(Errno::EACCES, false);
        let missing = failure(Errno::ENOENT, true);
        let explain = |path: &CStr, failure| explain(path, &failure).unwrap();

        let dir_c = CString::new(dir.clone().into_os_string().into_vec()).unwrap();
        assert_eq!(explain(&dir_c, eacces), "it is a directory");
        let data = file("data", b"text", 0o644);
        assert_eq!(
            explain(&data, eacces),
            "it has no execute permission (chmod +x)"
        );
        let script = file("script", b"#!  /no/such/sh -e\necho\n", 0o755);
        assert_eq!(
            explain(&script, missing),
            "its interpreter \"/no/such/sh\" (the #! line) does not exist"
        );
        let elf = file("elf", b"\x7fELF\x02\x01", 0o755);
        assert!(explain(&elf, missing).starts_with("its ELF interpreter"));
        assert_eq!(explain(c"/dev/null", eacces), "it is not a regular file");
        assert!(super::explain(c"/no/such", &failure(Errno::ENOENT, false)).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
