//! The message model IMAP needs, from [`crate::mail::structure`]: the parsed structure
//! (ENVELOPE, BODY, BODYSTRUCTURE, cached once per stored message), body sections, and the
//! header, body and date tests of SEARCH.

use chrono::NaiveDate;

use crate::mail::structure::{self, Structure};

pub use structure::Section;

/// The structure of a message.
pub fn parse(raw: &[u8]) -> Structure {
    Structure::of(raw)
}

/// A cached structure; `None` when it cannot be read (it is then computed again).
pub fn from_cache(json: &str) -> Option<Structure> {
    Structure::from_json(json)
}

pub fn to_cache(s: &Structure) -> String {
    s.to_json()
}

/// A body section (`part` empty: the message itself); `None` when the part does not exist.
pub fn section(raw: &[u8], part: &[u32], which: &Section) -> Option<Vec<u8>> {
    structure::section(raw, part, which)
}

/// `<start.len>` of a section.
pub fn partial(bytes: &[u8], start: u64, len: Option<u64>) -> &[u8] {
    structure::partial(bytes, start, len)
}

pub fn has_header(raw: &[u8], name: &str) -> bool {
    !structure::header_values(raw, name).is_empty()
}

/// Whether a header field contains `needle` (case-insensitive); for the address fields,
/// the addresses as parsed count too (`Name <local@domain>`, comments dropped), so that
/// `FROM user@domain.org` finds `<user (comment)@ domain.org>`.
pub fn header_contains(raw: &[u8], name: &str, needle: &str) -> bool {
    if structure::headers_contain(raw, name, needle) {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    if !matches!(
        lower.as_str(),
        "from" | "to" | "cc" | "bcc" | "sender" | "reply-to"
    ) {
        return false;
    }
    let Some(m) = mail_parser::MessageParser::default().parse_headers(raw) else {
        return false;
    };
    let list = match lower.as_str() {
        "from" => m.from(),
        "to" => m.to(),
        "cc" => m.cc(),
        "bcc" => m.bcc(),
        "sender" => m.sender(),
        _ => m.reply_to(),
    };
    let needle = needle.to_lowercase();
    list.is_some_and(|l| {
        l.iter().any(|a| {
            let shown = match (a.name(), a.address()) {
                (Some(n), Some(ad)) => format!("{n} <{ad}>"),
                (None, Some(ad)) => ad.to_string(),
                (Some(n), None) => n.to_string(),
                (None, None) => String::new(),
            };
            shown.to_lowercase().contains(&needle)
        })
    })
}

/// Where the message's header ends: just after its first empty line (CRLF or LF), as
/// [`structure`] splits it; `None` when `raw` holds no empty line.
pub fn header_end(raw: &[u8]) -> Option<usize> {
    let mut pos = 0;
    while pos < raw.len() {
        if raw[pos] == b'\n' {
            return Some(pos + 1);
        }
        if raw[pos] == b'\r' && raw.get(pos + 1) == Some(&b'\n') {
            return Some(pos + 2);
        }
        pos += raw[pos..].iter().position(|&b| b == b'\n')? + 1;
    }
    None
}

/// The header of a message (with its empty line) from the first bytes of its content, read
/// up to `limit` bytes (so `head` is the whole content when shorter): `None` when the header
/// may go on past them. The header functions (header sections, header searches, the sent
/// date) give the same answers on it as on the whole message.
pub fn header_of(head: &[u8], limit: usize) -> Option<&[u8]> {
    match header_end(head) {
        Some(end) => Some(&head[..end]),
        // a message without a body: all header
        None if head.len() < limit => Some(head),
        None => None,
    }
}

pub fn body_contains(raw: &[u8], needle: &str) -> bool {
    structure::body_contains(raw, needle)
}

pub fn text_contains(raw: &[u8], needle: &str) -> bool {
    structure::text_contains(raw, needle)
}

pub fn sent_date(raw: &[u8]) -> Option<NaiveDate> {
    structure::sent_date(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_ends_where_the_sections_say() {
        for raw in [
            &b"A: 1\r\nB: 2\r\n\r\nbody\r\n"[..],
            b"A: 1\nB: 2\n\nbody\n",
            b"A: 1\r\n \r\nB: 2\r\n\r\nbody",
            b"A: 1\r\n\nbody",
            b"\r\nbody",
            b"\nbody",
            b"A: 1\r\rB\r\n\r\n",
        ] {
            let end = header_end(raw).unwrap();
            assert_eq!(section(raw, &[], &Section::Header).unwrap(), &raw[..end]);
            // the header alone gives the same header
            let head = &raw[..end];
            assert_eq!(section(head, &[], &Section::Header).unwrap(), head);
        }
        assert_eq!(header_end(b"A: 1\r\nB: 2\r\n"), None);
        assert_eq!(header_end(b"A: 1\r\nB: 2\r\n\r"), None);
        assert_eq!(header_end(b""), None);
    }

    #[test]
    fn a_header_from_the_first_bytes() {
        assert_eq!(
            header_of(b"A: 1\r\n\r\nbody", 100),
            Some(&b"A: 1\r\n\r\n"[..])
        );
        // shorter than what was read: the whole message, all header
        assert_eq!(header_of(b"A: 1\r\nB: 2", 100), Some(&b"A: 1\r\nB: 2"[..]));
        // as long as what was read, no empty line: the header may go on
        assert_eq!(header_of(b"A: 1\r\nB: 2", 10), None);
        assert_eq!(header_of(b"A: 1\r\n\r", 7), None);
        assert_eq!(header_of(b"A: 1\r\n\r\n", 8), Some(&b"A: 1\r\n\r\n"[..]));
    }
}
