//! Writing responses: strings quoted when that is safe and sent as literals otherwise, NIL,
//! tagged and untagged status lines, dates and UID sets. Nothing here does I/O: everything is
//! appended to the session's output buffer.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

/// Longest string sent quoted; longer ones go as literals.
const MAX_QUOTED: usize = 1024;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ok,
    No,
    Bad,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Ok => "OK",
            Kind::No => "NO",
            Kind::Bad => "BAD",
        }
    }
}

/// The tagged completion of a command: `tag OK [CODE] text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub kind: Kind,
    pub code: Option<String>,
    pub text: String,
}

impl Done {
    pub fn ok(text: impl Into<String>) -> Done {
        Done {
            kind: Kind::Ok,
            code: None,
            text: text.into(),
        }
    }

    pub fn no(text: impl Into<String>) -> Done {
        Done {
            kind: Kind::No,
            code: None,
            text: text.into(),
        }
    }

    pub fn bad(text: impl Into<String>) -> Done {
        Done {
            kind: Kind::Bad,
            code: None,
            text: text.into(),
        }
    }

    /// The same with a response code (`TRYCREATE`, `APPENDUID 5 12`...).
    pub fn code(mut self, code: impl Into<String>) -> Done {
        self.code = Some(code.into());
        self
    }

    /// The store could not be reached.
    pub fn unavailable() -> Done {
        Done::no("the mail store is not available, try again later").code("UNAVAILABLE")
    }
}

/// Writes `tag OK [code] text` (or NO / BAD).
pub fn tagged(out: &mut Vec<u8>, tag: &str, done: &Done) {
    out.extend_from_slice(tag.as_bytes());
    out.push(b' ');
    status_rest(out, done.kind, done.code.as_deref(), &done.text);
}

/// Writes `* OK [code] text` (or NO / BAD).
pub fn untagged_status(out: &mut Vec<u8>, kind: Kind, code: Option<&str>, text: &str) {
    out.extend_from_slice(b"* ");
    status_rest(out, kind, code, text);
}

/// Writes `* BYE [code] text`.
pub fn bye(out: &mut Vec<u8>, code: Option<&str>, text: &str) {
    out.extend_from_slice(b"* BYE ");
    if let Some(c) = code {
        out.push(b'[');
        out.extend_from_slice(clean(c).as_bytes());
        out.extend_from_slice(b"] ");
    }
    out.extend_from_slice(clean(text).as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn status_rest(out: &mut Vec<u8>, kind: Kind, code: Option<&str>, text: &str) {
    out.extend_from_slice(kind.word().as_bytes());
    out.push(b' ');
    if let Some(c) = code {
        out.push(b'[');
        out.extend_from_slice(clean(c).as_bytes());
        out.extend_from_slice(b"] ");
    }
    let text = clean(text);
    out.extend_from_slice(if text.is_empty() { "done" } else { &text }.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Human-readable text without line breaks or control characters.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Writes a whole untagged line: `* ` + `body` + CRLF.
pub fn line(out: &mut Vec<u8>, body: &str) {
    out.extend_from_slice(b"* ");
    out.extend_from_slice(body.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Whether `s` can be sent as a quoted string.
pub fn quotable(s: &[u8]) -> bool {
    s.len() <= MAX_QUOTED
        && s.iter()
            .all(|&b| b != 0 && b != b'\r' && b != b'\n' && b < 0x80)
}

/// Whether `b` may appear in an atom (RFC 3501 ATOM-CHAR).
pub fn is_atom_char(b: u8) -> bool {
    b > 0x20 && b < 0x7f && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
}

/// A quoted string (the caller checked [`quotable`]).
pub fn quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// A synchronizing literal: `{n}` CRLF and the bytes.
pub fn literal(out: &mut Vec<u8>, s: &[u8]) {
    let _ = write!(Lossy(out), "{{{}}}\r\n", s.len());
    out.extend_from_slice(s);
}

/// A string: quoted when that is safe, a literal otherwise.
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    if quotable(s) {
        quoted(out, s)
    } else {
        literal(out, s)
    }
}

/// An astring: an atom when it is one (and not `NIL`), else a string.
pub fn astring(out: &mut Vec<u8>, s: &[u8]) {
    if !s.is_empty()
        && s.iter().all(|&b| is_atom_char(b) || b == b']')
        && !s.eq_ignore_ascii_case(b"NIL")
    {
        out.extend_from_slice(s)
    } else {
        string(out, s)
    }
}

/// A mailbox name as LIST, LSUB and STATUS show it: always a (quoted) string.
pub fn mailbox(out: &mut Vec<u8>, name: &str) {
    string(out, name.as_bytes())
}

/// INTERNALDATE: `"dd-Mon-yyyy hh:mm:ss +0000"` (the day padded with a space).
pub fn date_time(t: &DateTime<Utc>) -> String {
    t.format("\"%e-%b-%Y %H:%M:%S +0000\"").to_string()
}

/// A set of numbers as ranges, in the order given: `1:3,5,9:10`.
pub fn number_set(ns: &[u32]) -> String {
    let mut s = String::new();
    let mut i = 0;
    while i < ns.len() {
        let start = ns[i];
        let mut end = start;
        while i + 1 < ns.len() && end.checked_add(1) == Some(ns[i + 1]) {
            end = ns[i + 1];
            i += 1;
        }
        if !s.is_empty() {
            s.push(',');
        }
        if start == end {
            let _ = write!(s, "{start}");
        } else {
            let _ = write!(s, "{start}:{end}");
        }
        i += 1;
    }
    s
}

/// `fmt::Write` over a byte buffer.
struct Lossy<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Lossy<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn s(f: impl Fn(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn strings_are_quoted_or_literal() {
        assert_eq!(s(|o| string(o, b"hello")), "\"hello\"");
        assert_eq!(s(|o| string(o, b"a\"b\\c")), "\"a\\\"b\\\\c\"");
        assert_eq!(s(|o| string(o, b"")), "\"\"");
        assert_eq!(s(|o| string(o, b"two\r\nlines")), "{10}\r\ntwo\r\nlines");
        assert_eq!(s(|o| string(o, "é".as_bytes())), "{2}\r\né");
        assert_eq!(s(|o| astring(o, b"INBOX")), "INBOX");
        assert_eq!(s(|o| astring(o, b"NIL")), "\"NIL\"");
        assert_eq!(s(|o| astring(o, b"a b")), "\"a b\"");
        assert_eq!(s(|o| astring(o, b"a%")), "\"a%\"");
        let long = vec![b'x'; 2000];
        assert!(s(|o| string(o, &long)).starts_with("{2000}\r\n"));
    }

    #[test]
    fn status_lines() {
        let d = Done::no("no such mailbox").code("TRYCREATE");
        assert_eq!(
            s(|o| tagged(o, "a1", &d)),
            "a1 NO [TRYCREATE] no such mailbox\r\n"
        );
        assert_eq!(
            s(|o| tagged(o, "a2", &Done::ok("bad\r\ntext"))),
            "a2 OK bad  text\r\n"
        );
        assert_eq!(s(|o| bye(o, None, "bye")), "* BYE bye\r\n");
    }

    #[test]
    fn dates_and_sets() {
        let t = Utc.with_ymd_and_hms(2024, 3, 5, 7, 8, 9).unwrap();
        assert_eq!(date_time(&t), "\" 5-Mar-2024 07:08:09 +0000\"");
        assert_eq!(number_set(&[1, 2, 3, 5, 9, 10]), "1:3,5,9:10");
        assert_eq!(number_set(&[7]), "7");
        assert_eq!(number_set(&[]), "");
        assert_eq!(
            number_set(&[u32::MAX - 1, u32::MAX]),
            "4294967294:4294967295"
        );
    }
}
