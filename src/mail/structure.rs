//! The IMAP view of a stored message: ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501, 7.4.2), the
//! exact bytes of `BODY[section]<partial>` (RFC 3501, 6.4.5), and what SEARCH compares
//! (RFC 3501, 6.4.4).
//!
//! Pure functions over the raw message (CRLF or LF line endings, possibly malformed). The MIME
//! structure comes from a walker of our own working on byte offsets, so that every part's
//! header and body are exact slices of the raw message; mail-parser is only used to decode
//! (RFC 2047 words, base64, charsets, dates).
//!
//! Conventions follow Dovecot's: types, subtypes and parameter names as the message gives
//! them; `("charset" "us-ascii")` for a text part without parameters; `"7bit"` when the
//! transfer encoding is absent or not a token; `"message" "rfc822"` for an embedded message;
//! a multipart without parts gets one empty text/plain part; sizes and line counts are those
//! of the part's body as it is in the raw message (the line break before a boundary belongs
//! to the boundary); header values are unfolded but not decoded.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Deepest nesting of multiparts and embedded messages that is parsed; deeper containers are
/// shown as opaque `application/octet-stream` parts.
pub const MAX_DEPTH: usize = 20;

/// Most MIME entities parsed in one message; the rest of a multipart past this count is left
/// out of the structure.
pub const MAX_PARTS: usize = 5000;

/// The FETCH renderings of one message, each a complete parenthesized IMAP value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Structure {
    /// Written after `ENVELOPE `.
    pub envelope: String,
    /// Written after `BODY ` (no extension data).
    pub body: String,
    /// Written after `BODYSTRUCTURE ` (with extension data).
    pub bodystructure: String,
}

impl Structure {
    /// The envelope, body and body structure of a raw message.
    pub fn of(raw: &[u8]) -> Structure {
        let root = Walker::new(raw).entity(0, raw.len(), 0, false);
        let mut body = String::new();
        write_part(&mut body, raw, &root, false);
        let mut bodystructure = String::new();
        write_part(&mut bodystructure, raw, &root, true);
        Structure {
            envelope: envelope(raw, root.start, root.body),
            body,
            bodystructure,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Option<Structure> {
        serde_json::from_str(s).ok()
    }
}

/// What part of a part `BODY[section]` asks for (RFC 3501, 6.4.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    /// No section text: the whole message (empty part), or the body of the part.
    Full,
    Header,
    HeaderFields(Vec<String>),
    HeaderFieldsNot(Vec<String>),
    Text,
    /// The part's own MIME header (needs a part number).
    Mime,
}

/// The exact bytes of `BODY[part.section]`: `part` as in IMAP (1-based; empty for the whole
/// message; part 1 of a non-multipart message is its body). HEADER, HEADER.FIELDS and
/// HEADER.FIELDS.NOT include the blank line that ends the header; for a message/rfc822 part
/// they (and TEXT) refer to the embedded message. None when the part does not exist or the
/// section does not apply to it.
pub fn section(raw: &[u8], part: &[u32], which: &Section) -> Option<Vec<u8>> {
    let root = Walker::new(raw).entity(0, raw.len(), 0, false);
    let Some((&first, rest)) = part.split_first() else {
        return match which {
            Section::Full => Some(raw.to_vec()),
            Section::Mime => None,
            other => message_section(raw, &root, other),
        };
    };
    let mut cur = *numbering(&root).get((first as usize).checked_sub(1)?)?;
    for &n in rest {
        cur = *subparts(cur).get((n as usize).checked_sub(1)?)?;
    }
    match which {
        Section::Full => Some(raw[cur.body..cur.end].to_vec()),
        Section::Mime => Some(raw[cur.start..cur.body].to_vec()),
        other => match &cur.kind {
            Kind::Message(inner) => message_section(raw, inner, other),
            _ => None,
        },
    }
}

/// `<start.len>` of a section: the bytes from `start`, at most `len` of them, clamped to what
/// there is.
pub fn partial(bytes: &[u8], start: u64, len: Option<u64>) -> &[u8] {
    let n = bytes.len() as u64;
    let s = start.min(n);
    let e = match len {
        Some(l) => s.saturating_add(l).min(n),
        None => n,
    };
    &bytes[s as usize..e as usize]
}

/// Every value of the header field `name` (case-insensitive) in the message's header, in
/// order: unfolded, trimmed and RFC 2047 decoded.
pub fn header_values(raw: &[u8], name: &str) -> Vec<String> {
    let body = split_header(raw, 0, raw.len());
    fields(raw, 0, body)
        .iter()
        .filter(|f| f.name(raw).eq_ignore_ascii_case(name.as_bytes()))
        .map(|f| decode_words(&unfold(f.value(raw))))
        .collect()
}

/// Whether a header field `name` contains `needle` (case-insensitive); an empty needle
/// matches when the field exists (SEARCH HEADER, FROM, SUBJECT...).
pub fn headers_contain(raw: &[u8], name: &str, needle: &str) -> bool {
    let needle = needle.to_lowercase();
    header_values(raw, name)
        .iter()
        .any(|v| v.to_lowercase().contains(&needle))
}

/// Whether the decoded text of the body contains `needle` (case-insensitive): every text part
/// (embedded messages included), transfer encoding undone and charset converted (SEARCH BODY).
pub fn body_contains(raw: &[u8], needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let needle = needle.to_lowercase();
    let root = Walker::new(raw).entity(0, raw.len(), 0, false);
    let mut found = false;
    each_text_part(&root, &mut |e| {
        if !found {
            found = decoded_body(&raw[e.body..e.end], &e.content)
                .to_lowercase()
                .contains(&needle);
        }
    });
    found
}

/// The decoded text of every text part of the body (embedded messages included), transfer
/// encoding undone and charset converted, in order (what server-side rules compare).
pub fn text_bodies(raw: &[u8]) -> Vec<String> {
    let root = Walker::new(raw).entity(0, raw.len(), 0, false);
    let mut out = Vec::new();
    each_text_part(&root, &mut |e| {
        out.push(decoded_body(&raw[e.body..e.end], &e.content))
    });
    out
}

/// Whether the message's header (decoded) or body contains `needle` (SEARCH TEXT).
pub fn text_contains(raw: &[u8], needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let lower = needle.to_lowercase();
    let body = split_header(raw, 0, raw.len());
    let in_header = fields(raw, 0, body).iter().any(|f| {
        let line = format!(
            "{}: {}",
            String::from_utf8_lossy(f.name(raw)),
            decode_words(&unfold(f.value(raw)))
        );
        line.to_lowercase().contains(&lower)
    });
    in_header || body_contains(raw, needle)
}

/// The date of the `Date:` header in its own time zone (SENTBEFORE, SENTON, SENTSINCE).
pub fn sent_date(raw: &[u8]) -> Option<chrono::NaiveDate> {
    let body = split_header(raw, 0, raw.len());
    let f = fields(raw, 0, body)
        .into_iter()
        .find(|f| f.name(raw).eq_ignore_ascii_case(b"date"))?;
    let value = String::from_utf8_lossy(&unfold(f.value(raw))).into_owned();
    if let Some(d) = mail_parser::DateTime::parse_rfc822(&value) {
        if let Some(date) =
            chrono::NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32)
        {
            return Some(date);
        }
    }
    chrono::DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|d| d.date_naive())
}

// ---------------------------------------------------------------------------------------
// Header sections and fields

/// Where the body of the entity in `raw[start..end]` begins: after the first empty line (CRLF
/// or LF), or `end` when there is none.
fn split_header(raw: &[u8], start: usize, end: usize) -> usize {
    let mut pos = start;
    while pos < end {
        if raw[pos] == b'\n' {
            return pos + 1;
        }
        if raw[pos] == b'\r' && pos + 1 < end && raw[pos + 1] == b'\n' {
            return pos + 2;
        }
        match raw[pos..end].iter().position(|&b| b == b'\n') {
            Some(i) => pos += i + 1,
            None => return end,
        }
    }
    end
}

/// One header field: `raw[start..end]` with its folding and line ending.
#[derive(Debug, Clone, Copy)]
struct Field {
    start: usize,
    end: usize,
    colon: Option<usize>,
}

impl Field {
    fn name<'a>(&self, raw: &'a [u8]) -> &'a [u8] {
        match self.colon {
            Some(c) => trim_ws(&raw[self.start..c]),
            None => &[],
        }
    }

    fn value<'a>(&self, raw: &'a [u8]) -> &'a [u8] {
        match self.colon {
            Some(c) => &raw[c + 1..self.end],
            None => &raw[self.start..self.end],
        }
    }
}

/// The fields of the header `raw[start..end]` (up to its blank line).
fn fields(raw: &[u8], start: usize, end: usize) -> Vec<Field> {
    let mut out: Vec<Field> = Vec::new();
    let mut pos = start;
    while pos < end {
        let line_end = match raw[pos..end].iter().position(|&b| b == b'\n') {
            Some(i) => pos + i + 1,
            None => end,
        };
        let line = &raw[pos..line_end];
        let content = strip_eol(line);
        if content.is_empty() {
            break;
        }
        match out.last_mut() {
            Some(last) if matches!(line[0], b' ' | b'\t') => last.end = line_end,
            _ => out.push(Field {
                start: pos,
                end: line_end,
                colon: content.iter().position(|&b| b == b':').map(|i| pos + i),
            }),
        }
        pos = line_end;
    }
    out
}

fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn is_wsp(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn trim_ws(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_wsp(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_wsp(b)).map_or(start, |i| i + 1);
    &s[start..end.max(start)]
}

/// A field value unfolded (line breaks removed) and trimmed.
fn unfold(value: &[u8]) -> Vec<u8> {
    let v: Vec<u8> = value
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    trim_ws(&v).to_vec()
}

/// A raw value as text for an IMAP string: unfolded, trimmed, invalid UTF-8 and NULs replaced.
fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(&unfold(value)).replace('\0', "\u{FFFD}")
}

fn first_field<'a>(raw: &'a [u8], fs: &[Field], name: &str) -> Option<&'a [u8]> {
    fs.iter()
        .find(|f| f.name(raw).eq_ignore_ascii_case(name.as_bytes()))
        .map(|f| f.value(raw))
}

/// HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT or TEXT of the message `m`.
fn message_section(raw: &[u8], m: &Entity, which: &Section) -> Option<Vec<u8>> {
    let wanted = |names: &[String], f: &Field| {
        let name = f.name(raw);
        f.colon.is_some()
            && names
                .iter()
                .any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
    };
    match which {
        Section::Header => Some(raw[m.start..m.body].to_vec()),
        Section::Text => Some(raw[m.body..m.end].to_vec()),
        Section::HeaderFields(names) => Some(filtered(raw, m, |f| wanted(names, f))),
        Section::HeaderFieldsNot(names) => Some(filtered(raw, m, |f| !wanted(names, f))),
        Section::Full | Section::Mime => None,
    }
}

/// The fields of `m`'s header that `keep` keeps, as they are, and a blank line.
fn filtered(raw: &[u8], m: &Entity, keep: impl Fn(&Field) -> bool) -> Vec<u8> {
    let hdr = &raw[m.start..m.body];
    let eol: &[u8] = match hdr.iter().position(|&b| b == b'\n') {
        Some(i) if i > 0 && hdr[i - 1] == b'\r' => b"\r\n",
        Some(_) => b"\n",
        None => b"\r\n",
    };
    let mut out = Vec::new();
    for f in fields(raw, m.start, m.body).iter().filter(|f| keep(f)) {
        out.extend_from_slice(&raw[f.start..f.end]);
        if !out.ends_with(b"\n") {
            out.extend_from_slice(eol);
        }
    }
    out.extend_from_slice(eol);
    out
}

// ---------------------------------------------------------------------------------------
// The MIME walker

/// One MIME entity: its header is `raw[start..body]` (with the blank line), its body
/// `raw[body..end]`.
#[derive(Debug)]
struct Entity {
    start: usize,
    body: usize,
    end: usize,
    content: Content,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Leaf,
    /// A multipart or message/rfc822 past the limits, shown as application/octet-stream.
    Opaque,
    Multipart(Vec<Entity>),
    Message(Box<Entity>),
}

struct Walker<'a> {
    raw: &'a [u8],
    count: usize,
}

impl<'a> Walker<'a> {
    fn new(raw: &'a [u8]) -> Self {
        Walker { raw, count: 0 }
    }

    /// The entity in `raw[start..end]`; `digest` when its default type is message/rfc822.
    fn entity(&mut self, start: usize, end: usize, depth: usize, digest: bool) -> Entity {
        self.count += 1;
        let raw = self.raw;
        let body = split_header(raw, start, end);
        let content = Content::parse(raw, &fields(raw, start, body));
        let (ty, sub) = match &content.ctype {
            Some((t, s)) => (t.to_ascii_lowercase(), s.to_ascii_lowercase()),
            None if digest => ("message".into(), "rfc822".into()),
            None => ("text".into(), "plain".into()),
        };
        let room = depth < MAX_DEPTH && self.count < MAX_PARTS;
        let kind = if ty == "multipart" {
            if room {
                let spans = match content.param("boundary") {
                    Some(b) if !b.is_empty() => boundaries(raw, body, end, b.as_bytes()),
                    _ => Vec::new(),
                };
                let mut children = Vec::new();
                for (s, e) in spans {
                    if self.count >= MAX_PARTS {
                        break;
                    }
                    children.push(self.entity(s, e, depth + 1, sub == "digest"));
                }
                Kind::Multipart(children)
            } else {
                Kind::Opaque
            }
        } else if ty == "message" && sub == "rfc822" {
            if room {
                Kind::Message(Box::new(self.entity(body, end, depth + 1, false)))
            } else {
                Kind::Opaque
            }
        } else {
            Kind::Leaf
        };
        Entity {
            start,
            body,
            end,
            content,
            kind,
        }
    }
}

/// The spans of the parts of a multipart body `raw[start..end]` with this boundary. A part
/// ends before the line break that precedes the next delimiter line; a delimiter line is
/// `--boundary`, optionally `--`, then only white space. An unclosed last part runs to `end`.
fn boundaries(raw: &[u8], start: usize, end: usize, boundary: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut current: Option<usize> = None;
    let mut pos = start;
    while pos < end {
        let next = match raw[pos..end].iter().position(|&b| b == b'\n') {
            Some(i) => pos + i + 1,
            None => end,
        };
        let line = strip_eol(&raw[pos..next]);
        let delimiter = line
            .strip_prefix(b"--")
            .and_then(|l| l.strip_prefix(boundary))
            .map(|rest| {
                let closing = rest.starts_with(b"--");
                let tail = if closing { &rest[2..] } else { rest };
                (
                    closing,
                    tail.iter().all(|&b| matches!(b, b' ' | b'\t' | b'\r')),
                )
            });
        if let Some((closing, true)) = delimiter {
            if let Some(s) = current {
                let mut e = pos;
                if e > s && raw[e - 1] == b'\n' {
                    e -= 1;
                    if e > s && raw[e - 1] == b'\r' {
                        e -= 1;
                    }
                }
                spans.push((s, e));
            }
            if closing {
                return spans;
            }
            current = Some(next);
            if spans.len() >= MAX_PARTS {
                return spans;
            }
        }
        pos = next;
    }
    if let Some(s) = current {
        spans.push((s, end.max(s)));
    }
    spans
}

/// The parts a message's part numbers count: its parts when it is a multipart, else itself.
fn numbering(m: &Entity) -> Vec<&Entity> {
    match &m.kind {
        Kind::Multipart(children) => children.iter().collect(),
        _ => vec![m],
    }
}

/// The parts numbered under a part: a multipart's parts, or those of an embedded message.
fn subparts(p: &Entity) -> Vec<&Entity> {
    match &p.kind {
        Kind::Multipart(children) => children.iter().collect(),
        Kind::Message(inner) => numbering(inner),
        Kind::Leaf | Kind::Opaque => Vec::new(),
    }
}

fn each_text_part<'e>(e: &'e Entity, f: &mut dyn FnMut(&'e Entity)) {
    match &e.kind {
        Kind::Multipart(children) => children.iter().for_each(|c| each_text_part(c, f)),
        Kind::Message(inner) => each_text_part(inner, f),
        Kind::Opaque => {}
        Kind::Leaf => {
            let text = match &e.content.ctype {
                Some((t, _)) => t.eq_ignore_ascii_case("text"),
                None => true,
            };
            if text {
                f(e)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Content-* headers

type Params = Vec<(String, String)>;

/// What the Content-* headers of an entity say (the first of each counts).
#[derive(Debug, Default)]
struct Content {
    /// Type and subtype as given.
    ctype: Option<(String, String)>,
    params: Params,
    id: Option<String>,
    description: Option<String>,
    /// The transfer encoding when it is a token, as given.
    encoding: Option<String>,
    md5: Option<String>,
    disposition: Option<(String, Params)>,
    language: Vec<String>,
    location: Option<String>,
}

impl Content {
    fn parse(raw: &[u8], fs: &[Field]) -> Content {
        let mut c = Content::default();
        let mut seen: Vec<&'static str> = Vec::new();
        for f in fs {
            let name = f.name(raw);
            if name.len() < 8 || !name[..8].eq_ignore_ascii_case(b"content-") {
                continue;
            }
            let which = match name[8..].to_ascii_lowercase().as_slice() {
                b"type" => "type",
                b"transfer-encoding" => "transfer-encoding",
                b"id" => "id",
                b"description" => "description",
                b"md5" => "md5",
                b"disposition" => "disposition",
                b"language" => "language",
                b"location" => "location",
                _ => continue,
            };
            if seen.contains(&which) {
                continue;
            }
            seen.push(which);
            let value = unfold(f.value(raw));
            match which {
                "type" => {
                    let mut lx = Lex::new(&value);
                    if let Some(t) = lx.mime_token() {
                        lx.skip_cfws();
                        if lx.eat(b'/') {
                            if let Some(s) = lx.mime_token() {
                                c.ctype = Some((t, s));
                                c.params = lx.params();
                            }
                        }
                    }
                }
                "transfer-encoding" => {
                    let mut lx = Lex::new(&value);
                    if let Some(t) = lx.mime_token() {
                        lx.skip_cfws();
                        if lx.at_end() {
                            c.encoding = Some(t);
                        }
                    }
                }
                "disposition" => {
                    let mut lx = Lex::new(&value);
                    if let Some(t) = lx.mime_token() {
                        c.disposition = Some((t, lx.params()));
                    }
                }
                "language" => {
                    for tag in value.split(|&b| b == b',') {
                        let tag = trim_ws(tag);
                        if tag.is_empty()
                            || !tag.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                        {
                            break;
                        }
                        c.language.push(String::from_utf8_lossy(tag).into_owned());
                    }
                }
                "id" => c.id = Some(text(&value)),
                "description" => c.description = Some(text(&value)),
                "md5" => c.md5 = Some(text(&value)),
                "location" => c.location = Some(text(&value)),
                _ => {}
            }
        }
        c
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Joins RFC 2231 continuations (`name*0`, `name*1*`...) into `name` (or `name*` when they are
/// extended, value left encoded), after the plain parameters.
fn merge_continuations(list: Params) -> Params {
    /// The name as first written, whether any piece is extended, the numbered pieces.
    type Pieces = (String, bool, Vec<(u32, String)>);
    let mut out = Vec::new();
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Pieces> = HashMap::new();
    for (k, v) in list {
        let Some(star) = k.find('*') else {
            out.push((k, v));
            continue;
        };
        let rest = &k[star + 1..];
        let (num, extended) = match rest.strip_suffix('*') {
            Some(n) => (n, true),
            None => (rest, false),
        };
        let index = if num.is_empty() || num.len() > 4 {
            None
        } else {
            num.parse::<u32>().ok()
        };
        let Some(index) = index else {
            out.push((k, v));
            continue;
        };
        let base = k[..star].to_string();
        let key = base.to_ascii_lowercase();
        let entry = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            (base, false, Vec::new())
        });
        entry.1 |= extended;
        entry.2.push((index, v));
    }
    for key in order {
        if let Some((base, extended, mut pieces)) = groups.remove(&key) {
            pieces.sort_by_key(|(i, _)| *i);
            let value: String = pieces.into_iter().map(|(_, v)| v).collect();
            let name = if extended { format!("{base}*") } else { base };
            out.push((name, value));
        }
    }
    out
}

/// A small lexer for structured header values (RFC 5322 / RFC 2045 tokens).
struct Lex<'a> {
    s: &'a [u8],
    i: usize,
    /// The text of the last comment skipped.
    comment: Option<Vec<u8>>,
}

fn is_mime_token(b: u8) -> bool {
    b > 0x20 && b < 0x7f && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

fn is_atext(b: u8) -> bool {
    b > 0x20 && b != 0x7f && !b"()<>@,;:\\\".[]".contains(&b)
}

impl<'a> Lex<'a> {
    fn new(s: &'a [u8]) -> Self {
        Lex {
            s,
            i: 0,
            comment: None,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Skips white space and comments (remembering the last comment's text).
    fn skip_cfws(&mut self) {
        while let Some(b) = self.peek() {
            if is_wsp(b) {
                self.i += 1;
            } else if b == b'(' {
                self.i += 1;
                let mut depth = 1usize;
                let mut text = Vec::new();
                while let Some(c) = self.peek() {
                    self.i += 1;
                    match c {
                        b'\\' => {
                            if let Some(n) = self.peek() {
                                text.push(n);
                                self.i += 1;
                            }
                        }
                        b'(' => {
                            depth += 1;
                            text.push(c);
                        }
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            text.push(c);
                        }
                        _ => text.push(c),
                    }
                }
                self.comment = Some(text);
            } else {
                break;
            }
        }
    }

    /// A quoted string (at its opening quote), unescaped; runs to the end when unclosed.
    fn quoted(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.i += 1;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                _ => out.push(c),
            }
        }
        out
    }

    fn run(&mut self, ok: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.i;
        while self.peek().is_some_and(&ok) {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    fn mime_token(&mut self) -> Option<String> {
        self.skip_cfws();
        let t = self.run(is_mime_token);
        (!t.is_empty()).then(|| String::from_utf8_lossy(t).into_owned())
    }

    /// `; name=value` parameters (values quoted or not), RFC 2231 continuations joined.
    fn params(&mut self) -> Params {
        let mut list = Vec::new();
        loop {
            self.skip_cfws();
            match self.peek() {
                None => break,
                Some(b';') => {
                    self.i += 1;
                    continue;
                }
                _ => {}
            }
            let name = self.run(is_mime_token);
            self.skip_cfws();
            if name.is_empty() || !self.eat(b'=') {
                // Not a parameter: skip to the next one.
                self.run(|b| b != b';');
                continue;
            }
            self.skip_cfws();
            let value = if self.peek() == Some(b'"') {
                self.quoted()
            } else {
                self.run(|b| b != b';' && !is_wsp(b)).to_vec()
            };
            list.push((
                String::from_utf8_lossy(name).into_owned(),
                String::from_utf8_lossy(&value).replace('\0', "\u{FFFD}"),
            ));
            self.run(|b| b != b';');
        }
        merge_continuations(list)
    }
}

// ---------------------------------------------------------------------------------------
// Addresses

#[derive(Debug, Clone, PartialEq, Eq)]
enum Addr {
    Mailbox {
        name: Option<String>,
        route: Option<String>,
        mailbox: String,
        host: String,
    },
    GroupStart(String),
    GroupEnd,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace('\0', "\u{FFFD}")
}

/// An RFC 5322 address list, leniently: display names and quoted parts as written (RFC 2047
/// words kept), a comment after a bare address as its name, groups as IMAP's group markers.
fn parse_addresses(value: &[u8]) -> Vec<Addr> {
    let mut lx = Lex::new(value);
    let mut out = Vec::new();
    let mut in_group = false;
    loop {
        lx.skip_cfws();
        match lx.peek() {
            None => break,
            Some(b',') => {
                lx.i += 1;
                continue;
            }
            Some(b';') => {
                lx.i += 1;
                if in_group {
                    out.push(Addr::GroupEnd);
                    in_group = false;
                }
                continue;
            }
            _ => {}
        }
        let before = lx.i;
        let phrase = phrase(&mut lx);
        lx.skip_cfws();
        match lx.peek() {
            Some(b':') if !in_group => {
                lx.i += 1;
                out.push(Addr::GroupStart(lossy(&phrase)));
                in_group = true;
                continue;
            }
            Some(b'<') => {
                lx.i += 1;
                lx.skip_cfws();
                let mut route = None;
                if lx.peek() == Some(b'@') {
                    let start = lx.i;
                    lx.run(|b| b != b':' && b != b'>');
                    if lx.peek() == Some(b':') {
                        let r: Vec<u8> = lx.s[start..lx.i]
                            .iter()
                            .copied()
                            .filter(|b| !is_wsp(*b))
                            .collect();
                        route = Some(lossy(&r));
                        lx.i += 1;
                    } else {
                        lx.i = start;
                    }
                }
                let (local, host) = addr_spec(&mut lx);
                lx.skip_cfws();
                lx.run(|b| b != b'>' && b != b',' && b != b';');
                lx.eat(b'>');
                let name = (!phrase.is_empty()).then(|| lossy(&phrase));
                push_mailbox(&mut out, name, route, local, host);
            }
            _ => {
                lx.i = before;
                lx.comment = None;
                let (local, host) = addr_spec(&mut lx);
                lx.skip_cfws();
                let name = lx
                    .comment
                    .take()
                    .map(|c| lossy(trim_ws(&c)))
                    .filter(|c| !c.is_empty());
                push_mailbox(&mut out, name, None, local, host);
            }
        }
        // Whatever is left before the next separator is garbage.
        lx.skip_cfws();
        while let Some(b) = lx.peek() {
            if b == b',' || b == b';' {
                break;
            }
            if b == b'"' {
                lx.quoted();
            } else {
                lx.i += 1;
            }
        }
    }
    if in_group {
        out.push(Addr::GroupEnd);
    }
    out
}

fn push_mailbox(
    out: &mut Vec<Addr>,
    name: Option<String>,
    route: Option<String>,
    local: Vec<u8>,
    host: Option<Vec<u8>>,
) {
    if local.is_empty() && host.is_none() && name.is_none() {
        return;
    }
    let mailbox = if local.is_empty() {
        "MISSING_MAILBOX".to_string()
    } else {
        lossy(&local)
    };
    let host = match host {
        Some(h) if !h.is_empty() => lossy(&h),
        _ => "MISSING_DOMAIN".to_string(),
    };
    out.push(Addr::Mailbox {
        name,
        route,
        mailbox,
        host,
    });
}

/// A display phrase: words (atoms, dots allowed, and quoted strings) joined by one space.
fn phrase(lx: &mut Lex<'_>) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    loop {
        lx.skip_cfws();
        let word = match lx.peek() {
            Some(b'"') => lx.quoted(),
            Some(b) if is_atext(b) || b == b'.' => lx.run(|b| is_atext(b) || b == b'.').to_vec(),
            _ => break,
        };
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(&word);
    }
    out
}

/// `local@domain` (the domain None when there is no `@`).
fn addr_spec(lx: &mut Lex<'_>) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut local = Vec::new();
    loop {
        lx.skip_cfws();
        match lx.peek() {
            Some(b'"') => local.extend_from_slice(&lx.quoted()),
            Some(b'.') => {
                local.push(b'.');
                lx.i += 1;
            }
            Some(b) if is_atext(b) => local.extend_from_slice(lx.run(is_atext)),
            _ => break,
        }
    }
    lx.skip_cfws();
    if !lx.eat(b'@') {
        return (local, None);
    }
    let mut domain = Vec::new();
    loop {
        lx.skip_cfws();
        match lx.peek() {
            Some(b'[') => {
                let lit = lx.run(|b| b != b']');
                domain.extend_from_slice(lit);
                if lx.eat(b']') {
                    domain.push(b']');
                }
            }
            Some(b'.') => {
                domain.push(b'.');
                lx.i += 1;
            }
            Some(b) if is_atext(b) => domain.extend_from_slice(lx.run(is_atext)),
            _ => break,
        }
    }
    (local, Some(domain))
}

// ---------------------------------------------------------------------------------------
// Writing IMAP values

/// An IMAP string: quoted when it can be, else a literal.
fn push_string(out: &mut String, s: &str) {
    if s.bytes()
        .any(|b| b >= 0x80 || b == b'\r' || b == b'\n' || b == 0)
    {
        let s = s.replace('\0', "\u{FFFD}");
        let _ = write!(out, "{{{}}}\r\n{}", s.len(), s);
    } else {
        out.push('"');
        for c in s.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
}

fn push_nstring(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_string(out, s),
        None => out.push_str("NIL"),
    }
}

fn push_addresses(out: &mut String, list: &[Addr]) {
    if list.is_empty() {
        out.push_str("NIL");
        return;
    }
    out.push('(');
    for a in list {
        out.push('(');
        match a {
            Addr::Mailbox {
                name,
                route,
                mailbox,
                host,
            } => {
                push_nstring(out, name.as_deref());
                out.push(' ');
                push_nstring(out, route.as_deref());
                out.push(' ');
                push_string(out, mailbox);
                out.push(' ');
                push_string(out, host);
            }
            Addr::GroupStart(name) => {
                out.push_str("NIL NIL ");
                push_string(out, name);
                out.push_str(" NIL");
            }
            Addr::GroupEnd => out.push_str("NIL NIL NIL NIL"),
        }
        out.push(')');
    }
    out.push(')');
}

/// The ENVELOPE of the message whose header is `raw[start..body]`.
fn envelope(raw: &[u8], start: usize, body: usize) -> String {
    let fs = fields(raw, start, body);
    let string = |name: &str| first_field(raw, &fs, name).map(text);
    let addresses = |name: &str| {
        first_field(raw, &fs, name)
            .map(|v| parse_addresses(&unfold(v)))
            .unwrap_or_default()
    };
    let from = addresses("from");
    let mut sender = addresses("sender");
    if sender.is_empty() {
        sender = from.clone();
    }
    let mut reply_to = addresses("reply-to");
    if reply_to.is_empty() {
        reply_to = from.clone();
    }
    let mut out = String::from("(");
    push_nstring(&mut out, string("date").as_deref());
    out.push(' ');
    push_nstring(&mut out, string("subject").as_deref());
    for list in [
        &from,
        &sender,
        &reply_to,
        &addresses("to"),
        &addresses("cc"),
        &addresses("bcc"),
    ] {
        out.push(' ');
        push_addresses(&mut out, list);
    }
    out.push(' ');
    push_nstring(&mut out, string("in-reply-to").as_deref());
    out.push(' ');
    push_nstring(&mut out, string("message-id").as_deref());
    out.push(')');
    out
}

fn push_params(out: &mut String, params: &Params, default_charset: bool) {
    let add = default_charset
        && !params
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("charset"));
    if params.is_empty() && !add {
        out.push_str("NIL");
        return;
    }
    out.push('(');
    let mut first = true;
    for (k, v) in params {
        if !first {
            out.push(' ');
        }
        first = false;
        push_string(out, k);
        out.push(' ');
        push_string(out, v);
    }
    if add {
        if !first {
            out.push(' ');
        }
        out.push_str("\"charset\" \"us-ascii\"");
    }
    out.push(')');
}

/// Disposition, language and location: the extension data common to all parts.
fn push_extension(out: &mut String, c: &Content) {
    out.push(' ');
    match &c.disposition {
        Some((d, params)) => {
            out.push('(');
            push_string(out, d);
            out.push(' ');
            push_params(out, params, false);
            out.push(')');
        }
        None => out.push_str("NIL"),
    }
    out.push(' ');
    if c.language.is_empty() {
        out.push_str("NIL");
    } else {
        out.push('(');
        for (i, l) in c.language.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            push_string(out, l);
        }
        out.push(')');
    }
    out.push(' ');
    push_nstring(out, c.location.as_deref());
}

const EMPTY_PART: &str = "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0";

/// BODY (`ext` false) or BODYSTRUCTURE (`ext` true) of an entity, in parentheses.
fn write_part(out: &mut String, raw: &[u8], e: &Entity, ext: bool) {
    let c = &e.content;
    out.push('(');
    if let Kind::Multipart(children) = &e.kind {
        if children.is_empty() {
            out.push_str(EMPTY_PART);
            out.push_str(if ext { " NIL NIL NIL NIL)" } else { ")" });
        }
        for child in children {
            write_part(out, raw, child, ext);
        }
        out.push(' ');
        push_string(out, c.ctype.as_ref().map_or("mixed", |(_, s)| s.as_str()));
        if ext {
            out.push(' ');
            push_params(out, &c.params, false);
            push_extension(out, c);
        }
        out.push(')');
        return;
    }
    let mut text = false;
    match (&e.kind, &c.ctype) {
        (Kind::Message(_), _) => out.push_str("\"message\" \"rfc822\""),
        (Kind::Opaque, _) => out.push_str("\"application\" \"octet-stream\""),
        (_, Some((t, s))) => {
            text = t.eq_ignore_ascii_case("text");
            push_string(out, t);
            out.push(' ');
            push_string(out, s);
        }
        (_, None) => {
            text = true;
            out.push_str("\"text\" \"plain\"");
        }
    }
    out.push(' ');
    if matches!(e.kind, Kind::Opaque) {
        out.push_str("NIL");
    } else {
        push_params(out, &c.params, text);
    }
    out.push(' ');
    push_nstring(out, c.id.as_deref());
    out.push(' ');
    push_nstring(out, c.description.as_deref());
    out.push(' ');
    push_string(out, c.encoding.as_deref().unwrap_or("7bit"));
    let body = &raw[e.body..e.end];
    let lines = body.iter().filter(|&&b| b == b'\n').count();
    let _ = write!(out, " {}", body.len());
    if let Kind::Message(inner) = &e.kind {
        out.push(' ');
        out.push_str(&envelope(raw, inner.start, inner.body));
        out.push(' ');
        write_part(out, raw, inner, ext);
        let _ = write!(out, " {lines}");
    } else if text {
        let _ = write!(out, " {lines}");
    }
    if ext {
        out.push(' ');
        push_nstring(out, c.md5.as_deref());
        push_extension(out, c);
    }
    out.push(')');
}

// ---------------------------------------------------------------------------------------
// Decoding for SEARCH

/// A header value with its RFC 2047 encoded words decoded (white space between two adjacent
/// words dropped); other bytes as UTF-8 (lossy).
fn decode_words(v: &[u8]) -> String {
    let mut out = String::new();
    let mut literal_start = 0;
    let mut after_word = false;
    let mut i = 0;
    while i + 1 < v.len() {
        if v[i] == b'=' && v[i + 1] == b'?' {
            let mut stream = mail_parser::parsers::MessageStream::new(&v[i + 1..]);
            if let Some(decoded) = stream.decode_rfc2047() {
                let between = &v[literal_start..i];
                if !(after_word && between.iter().all(|&b| is_wsp(b))) {
                    out.push_str(&String::from_utf8_lossy(between));
                }
                out.push_str(&decoded);
                i += 1 + stream.offset().max(1);
                literal_start = i.min(v.len());
                after_word = true;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&String::from_utf8_lossy(&v[literal_start.min(v.len())..]));
    out
}

/// Quoted-printable, leniently: what is not a valid escape stays as it is.
fn qp_decode(b: &[u8]) -> Vec<u8> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|&c| hex(c)),
                b.get(i + 2).and_then(|&c| hex(c)),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            // A soft line break: `=`, optional white space, then the line break.
            let mut j = i + 1;
            while j < b.len() && matches!(b[j], b' ' | b'\t') {
                j += 1;
            }
            if j < b.len() && b[j] == b'\r' && b.get(j + 1) == Some(&b'\n') {
                i = j + 2;
                continue;
            }
            if j < b.len() && b[j] == b'\n' {
                i = j + 1;
                continue;
            }
            if j == b.len() {
                break;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The text of a leaf part: transfer encoding undone, charset converted to UTF-8.
fn decoded_body(body: &[u8], c: &Content) -> String {
    let encoding = c.encoding.as_deref().unwrap_or("").to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "base64" => {
            let clean: Vec<u8> = body
                .iter()
                .copied()
                .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
                .collect();
            mail_parser::decoders::base64::base64_decode(&clean).unwrap_or_default()
        }
        "quoted-printable" => qp_decode(body),
        _ => body.to_vec(),
    };
    match c
        .param("charset")
        .and_then(|cs| mail_parser::decoders::charsets::map::charset_decoder(cs.as_bytes()))
    {
        Some(decode) => decode(&bytes),
        None => String::from_utf8_lossy(&bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn crlf(s: &str) -> Vec<u8> {
        s.replace('\n', "\r\n").into_bytes()
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rfc3501_style_envelope() {
        let msg = crlf(
            "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\n\
             From: Terry Gray <gray@cac.washington.edu>\n\
             Subject: IMAP4rev1 WG mtg summary and minutes\n\
             To: imap@cac.washington.edu\n\
             cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\n\
             Message-Id: <B27397-0100000@cac.washington.edu>\n\
             \n\
             body\n",
        );
        let s = Structure::of(&msg);
        assert_eq!(
            s.envelope,
            "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" \
             ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
             ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
             ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
             ((NIL NIL \"imap\" \"cac.washington.edu\")) \
             ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) \
             NIL NIL \"<B27397-0100000@cac.washington.edu>\")"
        );
        assert_eq!(
            s.body,
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1)"
        );
        assert_eq!(
            s.bodystructure,
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL)"
        );
        assert_eq!(Structure::from_json(&s.to_json()), Some(s));
        assert_eq!(Structure::from_json("{"), None);
    }

    #[test]
    fn dovecot_envelope_cases() {
        // The cases of Dovecot's test-imap-envelope.c (from imaptest).
        let cases: &[(&str, &str)] = &[
            (
                "Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: user@domain (Real Name)\n\
                 To: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;\n\
                 Cc: group:;, group2: (foo) ;\n\nbody\n",
                "(\"Thu, 15 Feb 2007 01:02:03 +0200\" NIL \
                 ((\"Real Name\" NIL \"user\" \"domain\")) \
                 ((\"Real Name\" NIL \"user\" \"domain\")) \
                 ((\"Real Name\" NIL \"user\" \"domain\")) \
                 ((NIL NIL \"group\" NIL)(NIL NIL \"g1\" \"d1.org\")(NIL NIL \"g2\" \"d2.org\")(NIL NIL NIL NIL)\
                 (NIL NIL \"group2\" NIL)(NIL NIL \"g3\" \"d3.org\")(NIL NIL NIL NIL)) \
                 ((NIL NIL \"group\" NIL)(NIL NIL NIL NIL)(NIL NIL \"group2\" NIL)(NIL NIL NIL NIL)) \
                 NIL NIL NIL)",
            ),
            (
                "Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: user@domain (Real Name)\n\
                 Sender: \nReply-To: \n\nbody\n",
                "(\"Thu, 15 Feb 2007 01:02:03 +0200\" NIL \
                 ((\"Real Name\" NIL \"user\" \"domain\")) \
                 ((\"Real Name\" NIL \"user\" \"domain\")) \
                 ((\"Real Name\" NIL \"user\" \"domain\")) NIL NIL NIL NIL NIL)",
            ),
            (
                "Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: <@route:user@domain>\n\nbody\n",
                "(\"Thu, 15 Feb 2007 01:02:03 +0200\" NIL \
                 ((NIL \"@route\" \"user\" \"domain\")) ((NIL \"@route\" \"user\" \"domain\")) \
                 ((NIL \"@route\" \"user\" \"domain\")) NIL NIL NIL NIL NIL)",
            ),
        ];
        for (msg, expected) in cases {
            assert_eq!(Structure::of(&crlf(msg)).envelope, *expected, "{msg}");
        }
    }

    #[test]
    fn addresses_leniently() {
        let list = parse_addresses(
            b"\"Doe, John\" <john@x.org>, =?utf-8?q?J=C3=B6rg?= <j@y>, bare, \"q\\\"x\"@z, <>, ,",
        );
        let mb = |n: Option<&str>, m: &str, h: &str| Addr::Mailbox {
            name: n.map(str::to_string),
            route: None,
            mailbox: m.into(),
            host: h.into(),
        };
        assert_eq!(
            list,
            vec![
                mb(Some("Doe, John"), "john", "x.org"),
                mb(Some("=?utf-8?q?J=C3=B6rg?="), "j", "y"),
                mb(None, "bare", "MISSING_DOMAIN"),
                mb(None, "q\"x", "z"),
            ]
        );
        let mut out = String::new();
        push_addresses(&mut out, &list[3..]);
        assert_eq!(out, "((NIL NIL \"q\\\"x\" \"z\"))");
    }

    #[test]
    fn strings_become_literals_when_they_must() {
        let mut out = String::new();
        push_string(&mut out, "Jörg");
        assert_eq!(out, "{5}\r\nJörg");
        let msg = b"Subject: caf\xe9 \"x\"\r\nFrom: a@b\r\n\r\n";
        let env = Structure::of(msg).envelope;
        assert!(
            env.starts_with("(NIL {10}\r\ncaf\u{FFFD} \"x\" ((NIL NIL \"a\" \"b\"))"),
            "{env}"
        );
    }

    #[test]
    fn sections_of_a_simple_message() {
        let msg = crlf("From: a@b\nSubject: hi\n there\nX-A: 1\n\nline1\nline2\n");
        let s = |part: &[u32], w: Section| {
            section(&msg, part, &w).map(|v| String::from_utf8(v).unwrap())
        };
        assert_eq!(s(&[], Section::Full).unwrap().len(), msg.len());
        assert_eq!(
            s(&[], Section::Header).unwrap(),
            "From: a@b\r\nSubject: hi\r\n there\r\nX-A: 1\r\n\r\n"
        );
        assert_eq!(s(&[], Section::Text).unwrap(), "line1\r\nline2\r\n");
        assert_eq!(s(&[1], Section::Full).unwrap(), "line1\r\nline2\r\n");
        assert_eq!(
            s(&[], Section::HeaderFields(names(&["SUBJECT", "x-a"]))).unwrap(),
            "Subject: hi\r\n there\r\nX-A: 1\r\n\r\n"
        );
        assert_eq!(
            s(&[], Section::HeaderFieldsNot(names(&["subject"]))).unwrap(),
            "From: a@b\r\nX-A: 1\r\n\r\n"
        );
        assert_eq!(
            s(&[], Section::HeaderFields(names(&["xyz"]))).unwrap(),
            "\r\n"
        );
        assert_eq!(s(&[2], Section::Full), None);
        assert_eq!(s(&[0], Section::Full), None);
        assert_eq!(s(&[1, 1], Section::Full), None);
        assert_eq!(s(&[1], Section::Header), None);
        assert_eq!(s(&[], Section::Mime), None);
        assert_eq!(partial(b"hello", 1, Some(3)), b"ell");
        assert_eq!(partial(b"hello", 4, Some(30)), b"o");
        assert_eq!(partial(b"hello", 9, None), b"");
        assert_eq!(partial(b"hello", 2, Some(u64::MAX)), b"llo");
    }

    #[test]
    fn digest_parts_default_to_messages() {
        // imaptest's fetch-body-message-rfc822-mime.
        let msg = crlf(
            "From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nMime-Version: 1.0\n\
             Content-Type: message/rfc822\n\n\
             From: sub@domain.org\nDate: Sun, 12 Aug 2012 12:34:56 +0300\nSubject: submsg\n\
             Content-Type: multipart/digest; boundary=\"foo\"\n\nprologue\n\n--foo \n\n\
             From: m1@example.com\nSubject: m1\n\nm1 body\n\n--foo \nX-Mime: m2 header\n\n\
             From: m2@example.com\nSubject: m2\n\nm2 body\n\n--foo--\n\nepilogue\n",
        );
        let s = |part: &[u32], w: Section| {
            section(&msg, part, &w).map(|v| String::from_utf8(v).unwrap())
        };
        assert_eq!(
            s(&[1, 1], Section::Full).unwrap(),
            "From: m1@example.com\r\nSubject: m1\r\n\r\nm1 body\r\n"
        );
        assert_eq!(s(&[1, 1], Section::Mime).unwrap(), "\r\n");
        assert_eq!(
            s(&[1, 1], Section::Header).unwrap(),
            "From: m1@example.com\r\nSubject: m1\r\n\r\n"
        );
        assert_eq!(s(&[1, 1], Section::Text).unwrap(), "m1 body\r\n");
        assert_eq!(
            s(&[1, 2], Section::Mime).unwrap(),
            "X-Mime: m2 header\r\n\r\n"
        );
        assert_eq!(s(&[1, 2], Section::Text).unwrap(), "m2 body\r\n");
        assert_eq!(s(&[1, 2, 1], Section::Full).unwrap(), "m2 body\r\n");
        assert_eq!(s(&[1, 3], Section::Full), None);
        let bs = Structure::of(&msg).bodystructure;
        assert!(
            bs.contains("(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 46 (NIL \"m1\""),
            "{bs}"
        );
        assert!(
            bs.contains(" \"digest\" (\"boundary\" \"foo\") NIL NIL NIL)"),
            "{bs}"
        );
    }

    #[test]
    fn parameters_and_encodings() {
        let msg = crlf(
            "Content-Type: application/x-thing; title*0*=us-ascii'en'This%20is; title*1*=%20it;\n \
             name*1=\"b.txt\"; name*0=\"a\"; odd; (comment) x = y\n\
             Content-Transfer-Encoding: ?invalid\n\
             Content-Disposition: attachment; filename=\"r\\\"x.pdf\"; size=3\n\
             Content-Language: en-GB\n\nabc",
        );
        assert_eq!(
            Structure::of(&msg).bodystructure,
            "(\"application\" \"x-thing\" (\"x\" \"y\" \"title*\" \"us-ascii'en'This%20is%20it\" \
             \"name\" \"ab.txt\") NIL NIL \"7bit\" 3 NIL (\"attachment\" (\"filename\" \"r\\\"x.pdf\" \
             \"size\" \"3\")) (\"en-GB\") NIL)"
        );
    }

    #[test]
    fn searching() {
        let msg = crlf(
            "From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>\n\
             Subject: =?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\n \
             =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=\n\
             Subject: second\n\
             Date: Mon, 31 Dec 2007 23:30:00 -0500\n\
             Content-Type: multipart/mixed; boundary=b\n\n\
             --b\nContent-Type: text/plain; charset=iso-8859-1\n\
             Content-Transfer-Encoding: quoted-printable\n\nCaf=E9 cr=\n=E8me\n\
             --b\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n\
             PGI+QsOkciE8L2I+\n\
             --b\nContent-Type: application/octet-stream\n\nsecretword\n--b--\n",
        );
        assert_eq!(
            header_values(&msg, "subject"),
            vec![
                "If you can read this you understand the example.".to_string(),
                "second".to_string()
            ]
        );
        assert_eq!(
            header_values(&msg, "FROM"),
            vec!["André Pirard <PIRARD@vm1.ulg.ac.be>"]
        );
        assert!(headers_contain(&msg, "from", "andré"));
        assert!(headers_contain(&msg, "subject", "UNDERSTAND"));
        assert!(headers_contain(&msg, "subject", ""));
        assert!(!headers_contain(&msg, "cc", ""));
        assert!(body_contains(&msg, "CAFÉ CRÈME"));
        assert!(body_contains(&msg, "bär!"));
        assert!(!body_contains(&msg, "secretword"));
        assert!(!body_contains(&msg, "understand"));
        assert!(text_contains(&msg, "understand"));
        assert!(text_contains(&msg, "crème"));
        assert!(text_contains(&msg, "content-type: multipart"));
        assert!(!text_contains(&msg, "nowhere"));
        assert_eq!(
            sent_date(&msg),
            chrono::NaiveDate::from_ymd_opt(2007, 12, 31)
        );
        assert_eq!(sent_date(b"Subject: x\r\n\r\n"), None);
        assert_eq!(sent_date(b"Date: garbage\r\n\r\n"), None);
    }

    #[test]
    fn limits_hold() {
        // Deep nesting: past MAX_DEPTH the containers are opaque, and nothing overflows.
        let mut msg = String::new();
        for i in 0..200 {
            msg.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n"
            ));
        }
        msg.push_str("\nbody\n");
        let s = Structure::of(msg.as_bytes());
        assert!(s.bodystructure.contains("\"application\" \"octet-stream\""));
        let mut nested = String::new();
        for _ in 0..200 {
            nested.push_str("Content-Type: message/rfc822\n\n");
        }
        let s = Structure::of(nested.as_bytes());
        assert!(s.bodystructure.len() < 100 * nested.len());
        // Many parts: at most MAX_PARTS.
        let mut many = String::from("Content-Type: multipart/mixed; boundary=x\n\n");
        for _ in 0..(MAX_PARTS + 100) {
            many.push_str("--x\n");
        }
        let s = Structure::of(many.as_bytes());
        assert!(s.body.matches("\"text\"").count() < MAX_PARTS);
        assert!(section(many.as_bytes(), &[MAX_PARTS as u32 + 50], &Section::Full).is_none());
    }

    // -- golden files in tests/data/structure -------------------------------------------

    #[derive(Deserialize)]
    struct Golden {
        envelope: String,
        body: String,
        bodystructure: String,
        #[serde(default)]
        sections: Vec<GoldenSection>,
    }

    #[derive(Deserialize)]
    struct GoldenSection {
        part: Vec<u32>,
        /// full, header, header.fields, header.fields.not, text, mime
        section: String,
        #[serde(default)]
        fields: Vec<String>,
        expected: Option<String>,
    }

    #[test]
    fn golden_files() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/structure");
        let mut seen = 0;
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .expect("tests/data/structure")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        entries.sort();
        for eml in entries {
            let raw = std::fs::read(&eml).unwrap();
            let json = std::fs::read_to_string(eml.with_extension("json"))
                .unwrap_or_else(|_| panic!("{} has no .json", eml.display()));
            let golden: Golden = serde_json::from_str(&json).unwrap();
            let s = Structure::of(&raw);
            let name = eml.file_name().unwrap().to_string_lossy().into_owned();
            assert_eq!(s.envelope, golden.envelope, "{name}: envelope");
            assert_eq!(s.body, golden.body, "{name}: body");
            assert_eq!(
                s.bodystructure, golden.bodystructure,
                "{name}: bodystructure"
            );
            for g in &golden.sections {
                let which = match g.section.as_str() {
                    "full" => Section::Full,
                    "header" => Section::Header,
                    "header.fields" => Section::HeaderFields(g.fields.clone()),
                    "header.fields.not" => Section::HeaderFieldsNot(g.fields.clone()),
                    "text" => Section::Text,
                    "mime" => Section::Mime,
                    other => panic!("{name}: unknown section {other}"),
                };
                let got = section(&raw, &g.part, &which)
                    .map(|b| String::from_utf8_lossy(&b).into_owned());
                assert_eq!(got, g.expected, "{name}: {:?} {}", g.part, g.section);
            }
            seen += 1;
        }
        assert!(seen >= 6, "only {seen} golden messages");
    }

    // -- robustness --------------------------------------------------------------------

    const SAMPLE: &str = "From: \"A\" <a@b.c>, group: x@y;\r\nTo: (c) d@e\r\n\
        Subject: =?utf-8?q?h=C3=A9?=\r\nDate: Sat, 24 Mar 2007 23:00:00 +0200\r\n\
        Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\npre\r\n--b\r\n\
        Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
        caf=E9\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y\r\n\
        Content-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\n\r\nin\r\n--c\r\n\
        Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+\r\n--c--\r\n\
        --b\r\nContent-Type: application/pdf; name=\"x.pdf\"\r\nContent-Disposition: attachment\r\n\r\n\
        JVBERi0=\r\n--b--\r\nepi\r\n";

    fn exercise(raw: &[u8]) {
        let s = Structure::of(raw);
        assert!(s.envelope.starts_with('(') && s.envelope.ends_with(')'));
        assert!(s.body.starts_with('(') && s.bodystructure.ends_with(')'));
        assert!(s.bodystructure.len() <= 200 * raw.len() + 400);
        let parts: [&[u32]; 7] = [&[], &[1], &[2], &[2, 1], &[2, 1, 2], &[3], &[1, 1, 1, 1]];
        let whiches = [
            Section::Full,
            Section::Header,
            Section::HeaderFields(vec!["from".into(), "content-type".into()]),
            Section::HeaderFieldsNot(vec!["subject".into()]),
            Section::Text,
            Section::Mime,
        ];
        for p in parts {
            for w in &whiches {
                if let Some(b) = section(raw, p, w) {
                    assert!(b.len() <= raw.len() + 4);
                    let _ = partial(&b, 3, Some(5));
                }
            }
        }
        let _ = header_values(raw, "subject");
        let _ = headers_contain(raw, "from", "a");
        let _ = body_contains(raw, "caf");
        let _ = text_contains(raw, "é");
        let _ = sent_date(raw);
    }

    #[test]
    fn sample_is_sound() {
        exercise(SAMPLE.as_bytes());
        let s = Structure::of(SAMPLE.as_bytes());
        assert!(s
            .bodystructure
            .starts_with("((\"text\" \"plain\" (\"charset\" \"iso-8859-1\")"));
        assert!(body_contains(SAMPLE.as_bytes(), "CAFÉ"));
        assert!(body_contains(SAMPLE.as_bytes(), "<b>"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..2000)) {
            exercise(&raw);
        }

        #[test]
        fn mutated_sample_never_panics(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..40)
        ) {
            let mut raw = SAMPLE.as_bytes().to_vec();
            for (at, byte, op) in edits {
                let at = if raw.is_empty() { 0 } else { at % (raw.len() + 1) };
                match op {
                    0 if at < raw.len() => raw[at] = byte,
                    1 => raw.insert(at, byte),
                    _ if at < raw.len() => { raw.remove(at); }
                    _ => {}
                }
            }
            exercise(&raw);
        }

        #[test]
        fn mime_shaped_text_never_panics(
            s in "((Content-Type: (multipart/(mixed|digest); boundary=\"?[ab]\"?|message/rfc822|text/plain)|--[ab](--)?|From: [a-z@<>\",:; ()]{0,20}|x)\r?\n){0,40}"
        ) {
            exercise(s.as_bytes());
        }
    }
}
