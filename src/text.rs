//! Text without a heap: a fixed buffer to format into, and bytes shown as
//! quoted text.
//!
//! The child between clone and exec may not allocate, and the nsclone
//! binary has no use for a heap on its ordinary path, so its messages and
//! trace lines are formatted with `core::fmt` into a buffer of fixed size on
//! the stack, then written with one write(2) (which also keeps two
//! processes' lines whole when they write at the same time).

use core::ffi::CStr;
use core::fmt::{self, Write};

/// A buffer of `N` bytes that `write!` formats into. Text that does not fit
/// is cut, and the buffer then ends with `...`: formatting never fails and
/// never panics.
pub struct FixedBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
    cut: bool,
}

impl<const N: usize> FixedBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        FixedBuf {
            buf: [0; N],
            len: 0,
            cut: false,
        }
    }

    /// How many bytes it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forget the bytes after the first `len`.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The bytes as a C string, for a system call (NUL-terminated in the
    /// byte kept spare): `None` if the text was cut, since a path cut short
    /// names another file, or if it holds a NUL byte.
    pub fn c_str(&mut self) -> Option<&CStr> {
        if self.cut {
            return None;
        }
        self.buf[self.len] = 0;
        CStr::from_bytes_with_nul(&self.buf[..=self.len]).ok()
    }

    /// The bytes, ended with a newline (or `...` and a newline if the text
    /// was cut).
    pub fn line(&mut self) -> &[u8] {
        const ELLIPSIS: &[u8] = b"...\n";
        if self.cut {
            let at = self.len.min(N - ELLIPSIS.len());
            self.buf[at..at + ELLIPSIS.len()].copy_from_slice(ELLIPSIS);
            self.len = at + ELLIPSIS.len();
        } else {
            self.buf[self.len] = b'\n';
            self.len += 1;
        }
        &self.buf[..self.len]
    }
}

impl<const N: usize> Default for FixedBuf<N> {
    fn default() -> Self {
        FixedBuf::new()
    }
}

impl<const N: usize> Write for FixedBuf<N> {
    /// Never fails: what does not fit (keeping one byte for the newline of
    /// [`FixedBuf::line`]) is cut.
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N - 1 - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        self.cut |= n < s.len();
        Ok(())
    }
}

/// Bytes shown as a quoted string, the way Rust's `{:?}` shows text: UTF-8
/// as it is (quotes, backslashes and control characters escaped), and each
/// invalid byte sequence as U+FFFD. `Quoted(b"sh")` shows `"sh"`.
pub struct Quoted<'a>(pub &'a [u8]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for chunk in self.0.utf8_chunks() {
            write!(f, "{}", chunk.valid().escape_debug())?;
            if !chunk.invalid().is_empty() {
                f.write_char(char::REPLACEMENT_CHARACTER)?;
            }
        }
        f.write_char('"')
    }
}

/// Words shown as a list, the way the article prints a command line:
/// `["sh", "-c", "echo hi"]`.
pub struct Words<I>(pub I);

impl<'a, I: Iterator<Item = &'a [u8]> + Clone> fmt::Display for Words<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('[')?;
        for (i, word) in self.0.clone().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", Quoted(word))?;
        }
        f.write_char(']')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(value: impl fmt::Display) -> String {
        let mut buf = FixedBuf::<64>::new();
        write!(buf, "{value}").unwrap();
        String::from_utf8(buf.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn a_c_string_is_the_whole_text_or_none() {
        let mut path = FixedBuf::<16>::new();
        let _ = write!(path, "/proc/{}/ns", 42);
        assert_eq!(path.c_str(), Some(c"/proc/42/ns"));
        let _ = write!(path, "/uts_is_too_long");
        assert_eq!(path.c_str(), None, "a path cut short names another file");
        let mut nul = FixedBuf::<16>::new();
        let _ = write!(nul, "a\0b");
        assert_eq!(nul.c_str(), None);
    }

    #[test]
    fn quoting_is_rusts_debug_of_the_lossy_string() {
        for bytes in [
            &b"newhostname"[..],
            b"a\"b\\c\n\t",
            b"caf\xc3\xa9",
            b"\xff\xfeok",
            b"",
        ] {
            let expected = format!("{:?}", String::from_utf8_lossy(bytes));
            assert_eq!(shown(Quoted(bytes)), expected);
        }
    }

    #[test]
    fn words_read_like_the_article() {
        let words: [&[u8]; 3] = [b"sh", b"-c", b"echo hi"];
        assert_eq!(
            shown(Words(words.iter().copied())),
            r#"["sh", "-c", "echo hi"]"#
        );
    }

    #[test]
    fn long_text_is_cut_not_overflowed() {
        let mut buf = FixedBuf::<16>::new();
        for _ in 0..100 {
            write!(buf, "ab").unwrap();
        }
        let line = buf.line();
        assert_eq!(line.len(), 16);
        assert!(line.ends_with(b"...\n"), "{line:?}");
        let mut short = FixedBuf::<16>::new();
        write!(short, "x").unwrap();
        assert_eq!(short.line(), b"x\n");
    }
}
