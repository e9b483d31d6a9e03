//! Namespaces: how to tell them apart, and the UTS namespace's hostname.
//!
//! Every namespace a process is in shows as a link in `/proc/PID/ns/`, such
//! as `uts -> uts:[4026531838]`; the number is the namespace's inode. Two
//! processes share a namespace exactly when those links (the device and
//! inode behind them) are equal. nsclone uses that twice: the child checks
//! that its UTS namespace is not the parent's before it sets a hostname (so
//! the host's can never change), and `--show-ns` prints both sides' links.
//!
//! The UTS namespace holds the hostname and NIS domain name that uname(2)
//! reports; sethostname(2) changes the caller's. See namespaces(7),
//! uts_namespaces(7).

use std::ffi::CStr;
use std::fmt;

use syscalls::Errno;

use crate::sys::{self, Pid};

/// The longest hostname the kernel accepts, in bytes (`HOST_NAME_MAX`).
pub const HOST_NAME_MAX: usize = 64;

/// The links in `/proc/PID/ns/`, as namespaces(7) lists them.
pub const NAMESPACES: [&str; 10] = [
    "cgroup",
    "ipc",
    "mnt",
    "net",
    "pid",
    "pid_for_children",
    "time",
    "time_for_children",
    "user",
    "uts",
];

/// The identity of a namespace: the device and inode of its `/proc` link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NsId {
    dev: u64,
    ino: u64,
}

/// The identity of the calling process's UTS namespace.
pub fn uts_of_self() -> Result<NsId, Errno> {
    ns_id(c"/proc/self/ns/uts")
}

/// The identity of the namespace behind a `/proc/.../ns/...` path.
fn ns_id(path: &CStr) -> Result<NsId, Errno> {
    let st = sys::stat(path)?;
    Ok(NsId {
        dev: st.st_dev,
        ino: st.st_ino,
    })
}

/// The target of `/proc/PID/ns/NAME`, such as `uts:[4026531838]`.
pub fn link(pid: Pid, name: &str) -> Result<String, Errno> {
    let path = std::ffi::CString::new(format!("/proc/{pid}/ns/{name}")).expect("no NUL");
    let mut buf = [0u8; 64];
    let len = sys::readlink(&path, &mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..len]).into_owned())
}

/// The hostname of the caller's UTS namespace, as uname(2) reports it.
pub fn hostname() -> Result<Vec<u8>, Errno> {
    let uts = sys::uname()?;
    let name = uts
        .nodename
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8);
    Ok(name.collect())
}

/// A hostname the kernel will accept: 1 to [`HOST_NAME_MAX`] bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hostname(Vec<u8>);

/// Why a hostname was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostnameError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`HOST_NAME_MAX`]; holds its length.
    TooLong(usize),
}

impl fmt::Display for HostnameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostnameError::Empty => write!(f, "a hostname cannot be empty"),
            HostnameError::TooLong(len) => write!(
                f,
                "{len} bytes is too long: hostnames are at most {HOST_NAME_MAX} bytes"
            ),
        }
    }
}

impl Hostname {
    /// Check `name` against the kernel's limits.
    pub fn new(name: impl Into<Vec<u8>>) -> Result<Hostname, HostnameError> {
        let name = name.into();
        match name.len() {
            0 => Err(HostnameError::Empty),
            len if len > HOST_NAME_MAX => Err(HostnameError::TooLong(len)),
            _ => Ok(Hostname(name)),
        }
    }

    /// The name's bytes, as sethostname(2) takes them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

/// The `/proc/PID/ns` links of two processes side by side, as `--show-ns`
/// prints them: a title, one row per namespace type with both links, the
/// rows that differ marked with `*` and `<- differs`, and a one-line
/// summary. Every line ends with a newline; none has trailing blanks.
///
/// ```text
/// nsclone: /proc/PID/ns of the launcher (pid 4711) and the child (pid 4712):
///     namespace          launcher              child
///     cgroup             cgroup:[4026531835]   cgroup:[4026531835]
///     ...
///   * uts                uts:[4026531838]      uts:[4026532177]   <- differs
/// nsclone: the child has its own uts namespace and shares the other 9
/// ```
pub fn comparison(parent: Pid, child: Pid) -> String {
    let read =
        |pid, name| link(pid, name).unwrap_or_else(|e| format!("({})", e.name().unwrap_or("?")));
    let rows: Vec<(&str, String, String)> = NAMESPACES
        .iter()
        .map(|&name| (name, read(parent, name), read(child, name)))
        .collect();
    let name_w = NAMESPACES.iter().map(|n| n.len()).max().unwrap_or(0);
    let link_w = rows
        .iter()
        .map(|(_, p, c)| p.len().max(c.len()))
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "nsclone: /proc/PID/ns of the launcher (pid {parent}) and the child (pid {child}):\n"
    );
    out.push_str(&format!(
        "    {:<name_w$}   {:<link_w$}   child\n",
        "namespace", "launcher"
    ));
    let mut own = Vec::new();
    for (name, p, c) in &rows {
        if p == c {
            out.push_str(&format!("    {name:<name_w$}   {p:<link_w$}   {c}\n"));
        } else {
            out.push_str(&format!(
                "  * {name:<name_w$}   {p:<link_w$}   {c:<link_w$}   <- differs\n"
            ));
            own.push(*name);
        }
    }
    let shared = rows.len() - own.len();
    let summary = match own.as_slice() {
        [] => "the child shares every namespace with the launcher".to_string(),
        [one] => format!("the child has its own {one} namespace and shares the other {shared}"),
        many => format!(
            "the child has its own {} namespaces and shares the other {shared}",
            many.join(", ")
        ),
    };
    out.push_str(&format!("nsclone: {summary}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_are_1_to_64_bytes() {
        assert_eq!(Hostname::new(""), Err(HostnameError::Empty));
        assert!(Hostname::new("a").is_ok());
        assert!(Hostname::new("x".repeat(64)).is_ok());
        assert_eq!(
            Hostname::new("x".repeat(65)),
            Err(HostnameError::TooLong(65))
        );
    }

    #[test]
    fn non_utf8_hostnames_are_bytes() {
        let name = Hostname::new(vec![0xff, b'a']).unwrap();
        assert_eq!(name.as_bytes(), [0xff, b'a']);
    }

    #[test]
    fn a_process_shares_every_namespace_with_itself() {
        let me = sys::getpid();
        let table = comparison(me, me);
        assert!(table.contains("uts:["), "{table}");
        assert!(!table.contains("differs"), "{table}");
        assert_eq!(table.lines().count(), 2 + NAMESPACES.len() + 1);
        assert!(table.ends_with("shares every namespace with the launcher\n"));
        assert!(table.lines().all(|l| l == l.trim_end()), "{table}");
    }

    #[test]
    fn our_uts_namespace_has_an_identity() {
        assert_eq!(uts_of_self().unwrap(), uts_of_self().unwrap());
        let link = link(sys::getpid(), "uts").unwrap();
        assert!(link.starts_with("uts:[") && link.ends_with(']'), "{link}");
    }
}
