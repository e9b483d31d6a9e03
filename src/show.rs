//! `--show-ns`: the namespaces of the launcher and of the child, side by
//! side, so that the isolation is visible rather than claimed.
//!
//! Each row is one link of `/proc/PID/ns/` (namespaces(7)) as readlink(2)
//! gives it, `uts:[4026532177]`, for both processes; the rows that differ
//! are the child's own namespaces.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ffi::CStr;
use core::fmt::Write;

use syscalls::Errno;

use crate::namespace::LINKS;
use crate::sys::{self, Pid};
use crate::text::FixedBuf;

/// The target of `/proc/PID/ns/NAME`, such as `uts:[4026531838]`.
pub fn link(pid: Pid, name: &str) -> Result<String, Errno> {
    let mut path = FixedBuf::<64>::new();
    let _ = write!(path, "/proc/{pid}/ns/{name}\0");
    let path = CStr::from_bytes_until_nul(path.as_bytes()).map_err(|_| Errno::EINVAL)?;
    let mut buf = [0u8; 64];
    let len = sys::readlink(path, &mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..len]).into_owned())
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
    let rows: Vec<(&str, String, String)> = LINKS
        .iter()
        .map(|&name| (name, read(parent, name), read(child, name)))
        .collect();
    let name_w = LINKS.iter().map(|n| n.len()).max().unwrap_or(0);
    let link_w = rows
        .iter()
        .map(|(_, p, c)| p.len().max(c.len()))
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "nsclone: /proc/PID/ns of the launcher (pid {parent}) and the child (pid {child}):\n"
    );
    let _ = writeln!(
        out,
        "    {:<name_w$}   {:<link_w$}   child",
        "namespace", "launcher"
    );
    let mut own = Vec::new();
    for (name, p, c) in &rows {
        if p == c {
            let _ = writeln!(out, "    {name:<name_w$}   {p:<link_w$}   {c}");
        } else {
            let _ = writeln!(
                out,
                "  * {name:<name_w$}   {p:<link_w$}   {c:<link_w$}   <- differs"
            );
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
    let _ = writeln!(out, "nsclone: {summary}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_shares_every_namespace_with_itself() {
        let me = std::process::id() as Pid;
        let table = comparison(me, me);
        assert!(table.contains("uts:["), "{table}");
        assert!(!table.contains("differs"), "{table}");
        assert_eq!(table.lines().count(), 2 + LINKS.len() + 1);
        assert!(table.ends_with("shares every namespace with the launcher\n"));
        assert!(table.lines().all(|l| l == l.trim_end()), "{table}");
        // Each row shows what the kernel's own links say (read with std).
        for name in LINKS {
            let target = std::fs::read_link(format!("/proc/self/ns/{name}")).unwrap();
            assert!(table.contains(target.to_str().unwrap()), "{name}: {table}");
        }
    }
}
