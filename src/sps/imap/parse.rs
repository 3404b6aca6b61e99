//! Decoding the messages of a session with imap-codec: commands, AUTHENTICATE data lines,
//! IDLE's DONE. imap-codec does not know some extensions; what they add is taken off here and
//! the plain command that remains is decoded as usual:
//! - the extended LIST of RFC 5258 / RFC 6154 (`LIST (SPECIAL-USE) "" *`,
//!   `LIST "" * RETURN (SUBSCRIBED SPECIAL-USE)`): the options are taken off;
//! - the extended SEARCH of RFC 4731 and RFC 5182 (`SEARCH RETURN (MIN COUNT SAVE) ...`): the
//!   options are taken off;
//! - SEARCHRES's `$` (RFC 5182), the saved search result, where a message set is expected (the
//!   set of FETCH, STORE, COPY, MOVE, UID EXPUNGE; a SEARCH key, alone or after `UID`): it is
//!   replaced by the set it stands for, which the session gives.
//!
//! These rewrites work on the command's tokens (atoms, quoted strings, literals, parentheses),
//! so a `$` inside a string, or as the argument of a SEARCH key (`SUBJECT $`), stays as it is.

use imap_codec::decode::Decoder;
use imap_codec::imap_types::auth::AuthenticateData;
use imap_codec::imap_types::command::Command;
use imap_codec::imap_types::IntoStatic;
use imap_codec::{AuthenticateDataCodec, CommandCodec, IdleDoneCodec};

use super::list::Options;

/// A decoded command, with the options of an extended LIST or SEARCH.
#[derive(Debug)]
pub struct Decoded {
    pub command: Command<'static>,
    pub list: Options,
    /// `SEARCH RETURN (...)`: an extended SEARCH, answered with `* ESEARCH`.
    pub search: Option<SearchReturn>,
    /// The command's message set was `$` and the saved result is empty: it has nothing to
    /// act on (the set decoded in its place is not to be used).
    pub empty_set: bool,
}

/// The RETURN options of an extended SEARCH (RFC 4731; SAVE: RFC 5182). `RETURN ()` is ALL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchReturn {
    pub min: bool,
    pub max: bool,
    pub count: bool,
    pub all: bool,
    pub save: bool,
}

/// Why a message is not a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Not understood.
    Syntax,
    /// A LIST option this server does not have.
    ListOption(String),
    /// A SEARCH RETURN option this server does not have.
    SearchOption(String),
}

/// The saved search result for `$`: the set as text (UIDs when asked for, else sequence
/// numbers), empty when the result is empty, `None` when there is no mailbox to have one.
pub type Saved<'a> = &'a dyn Fn(bool) -> Option<String>;

/// Decodes a command, without a saved search result (`$` is not understood).
pub fn command(msg: &[u8]) -> Result<Decoded, Invalid> {
    command_with(msg, &|_| None)
}

/// Decodes a command; `$` stands for what `saved` gives.
pub fn command_with(msg: &[u8], saved: Saved<'_>) -> Result<Decoded, Invalid> {
    let mut list = Options::default();
    let mut search = None;
    let mut empty_set = false;
    let bytes = if let Some((b, o)) = extended_list(msg)? {
        list = o;
        std::borrow::Cow::Owned(b)
    } else if let Some(r) = rewrite(msg, saved)? {
        search = r.search;
        empty_set = r.empty_set;
        match r.bytes {
            Some(b) => std::borrow::Cow::Owned(b),
            None => std::borrow::Cow::Borrowed(msg),
        }
    } else {
        std::borrow::Cow::Borrowed(msg)
    };
    match CommandCodec::default().decode(&bytes) {
        Ok(([], c)) => Ok(Decoded {
            command: c.into_static(),
            list,
            search,
            empty_set,
        }),
        _ => Err(Invalid::Syntax),
    }
}

/// Whether the message is a SEARCH that asks to save its result (`RETURN (... SAVE ...)`):
/// when it fails, even undecoded, the saved result becomes empty (RFC 5182).
pub fn saves_search(msg: &[u8]) -> bool {
    let mut lx = Lexer::new(msg);
    let _tag = lx.next();
    let mut name = lx.next();
    if name.is_some_and(|t| lx.is_word(t, "UID")) {
        name = lx.next();
    }
    if !name.is_some_and(|t| lx.is_word(t, "SEARCH"))
        || !lx.next().is_some_and(|t| lx.is_word(t, "RETURN"))
    {
        return false;
    }
    if lx.next().map(|t| t.kind) != Some(Kind::Open) {
        return false;
    }
    while let Some(t) = lx.next() {
        if t.kind == Kind::Close {
            break;
        }
        if lx.is_word(t, "SAVE") {
            return true;
        }
    }
    false
}

/// An AUTHENTICATE continuation line: `Some(data)`, or `None` when the client cancelled.
pub fn authenticate_data(msg: &[u8]) -> Result<Option<Vec<u8>>, Invalid> {
    match AuthenticateDataCodec::default().decode(msg) {
        Ok(([], d)) => Ok(match d {
            AuthenticateData::Continue(s) => Some(s.declassify().to_vec()),
            AuthenticateData::Cancel => None,
        }),
        _ => Err(Invalid::Syntax),
    }
}

/// Whether the line is IDLE's `DONE`.
pub fn idle_done(msg: &[u8]) -> bool {
    matches!(IdleDoneCodec::default().decode(msg), Ok((rest, _)) if rest.is_empty())
}

// ------------------------------------------------------------------ tokens

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Atom,
    Quoted,
    Literal,
    Open,
    Close,
}

/// A token and where it is in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// The tokens of a message, up to the end of its last line; it stops at anything it does not
/// understand (the decoder will refuse the message anyway).
struct Lexer<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn new(b: &'a [u8]) -> Lexer<'a> {
        Lexer { b, pos: 0 }
    }

    fn text(&self, t: Token) -> &'a [u8] {
        &self.b[t.start..t.end]
    }

    fn is_word(&self, t: Token, w: &str) -> bool {
        t.kind == Kind::Atom && self.text(t).eq_ignore_ascii_case(w.as_bytes())
    }

    /// `{n}`, `{n+}` or `~{n}`, CRLF and n bytes at `at`: where it ends.
    fn literal_end(&self, at: usize) -> Option<usize> {
        let b = self.b;
        let open = if b.get(at) == Some(&b'~') { at + 1 } else { at };
        if b.get(open) != Some(&b'{') {
            return None;
        }
        // at most 10 digits and a `+`: never a scan to the end of a long line
        let close = open + b[open..].iter().take(13).position(|&c| c == b'}')?;
        let digits = b[open + 1..close]
            .strip_suffix(b"+")
            .unwrap_or(&b[open + 1..close]);
        if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
        let data = if b[close + 1..].starts_with(b"\r\n") {
            close + 3
        } else if b[close + 1..].starts_with(b"\n") {
            close + 2
        } else {
            return None;
        };
        let end = data.checked_add(n)?;
        (end <= b.len()).then_some(end)
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let b = self.b;
        while b.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        let start = self.pos;
        let (kind, end) = match *b.get(start)? {
            b'\r' | b'\n' => return None,
            b'(' => (Kind::Open, start + 1),
            b')' => (Kind::Close, start + 1),
            b'"' => {
                let mut i = start + 1;
                loop {
                    match *b.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break (Kind::Quoted, i + 1),
                        b'\r' | b'\n' => return None,
                        _ => i += 1,
                    }
                }
            }
            b'{' | b'~' if self.literal_end(start).is_some() => {
                (Kind::Literal, self.literal_end(start)?)
            }
            _ => {
                let len = b[start..]
                    .iter()
                    .position(|&c| matches!(c, b' ' | b'(' | b')' | b'\r' | b'\n'))
                    .unwrap_or(b.len() - start);
                (Kind::Atom, start + len)
            }
        };
        self.pos = end;
        Some(Token { kind, start, end })
    }
}

// ------------------------------------------------------------------ SEARCH RETURN and $

/// What [`rewrite`] did.
struct Rewritten {
    /// The new message (`None`: as it was).
    bytes: Option<Vec<u8>>,
    search: Option<SearchReturn>,
    empty_set: bool,
}

/// SEARCH keys followed by one argument (HEADER has two, MODSEQ one or three).
const ONE_ARGUMENT: &[&str] = &[
    "BCC",
    "BEFORE",
    "BODY",
    "CC",
    "FROM",
    "KEYWORD",
    "ON",
    "SINCE",
    "SUBJECT",
    "TEXT",
    "TO",
    "UNKEYWORD",
    "LARGER",
    "SMALLER",
    "SENTBEFORE",
    "SENTON",
    "SENTSINCE",
    "OLDER",
    "YOUNGER",
];

/// Takes the RETURN options off a SEARCH and replaces `$` by the saved result; `None` when
/// the message is no such command.
fn rewrite(msg: &[u8], saved: Saved<'_>) -> Result<Option<Rewritten>, Invalid> {
    let mut lx = Lexer::new(msg);
    let Some(tag) = lx.next().filter(|t| t.kind == Kind::Atom) else {
        return Ok(None);
    };
    let _ = tag;
    let Some(mut name) = lx.next() else {
        return Ok(None);
    };
    let uid = lx.is_word(name, "UID");
    if uid {
        match lx.next() {
            Some(n) => name = n,
            None => return Ok(None),
        }
    }
    let mut edits: Vec<(usize, usize, Vec<u8>)> = Vec::new();
    let mut search = None;
    let mut empty_set = false;
    let set_command = ["FETCH", "STORE", "COPY", "MOVE"]
        .iter()
        .any(|w| lx.is_word(name, w))
        || (uid && lx.is_word(name, "EXPUNGE"));
    if set_command {
        if let Some(t) = lx.next().filter(|t| lx.is_word(*t, "$")) {
            match saved(uid) {
                None => {}
                Some(set) if set.is_empty() => {
                    empty_set = true;
                    edits.push((t.start, t.end, b"1".to_vec()));
                }
                Some(set) => edits.push((t.start, t.end, set.into_bytes())),
            }
        }
    } else if lx.is_word(name, "SEARCH") {
        let mut next = lx.next();
        if let Some(ret) = next.filter(|t| lx.is_word(*t, "RETURN")) {
            if lx.next().map(|t| t.kind) != Some(Kind::Open) {
                return Err(Invalid::Syntax);
            }
            let mut r = SearchReturn::default();
            let mut any = false;
            loop {
                let Some(t) = lx.next() else {
                    return Err(Invalid::Syntax);
                };
                if t.kind == Kind::Close {
                    edits.push((ret.start - 1, t.end, Vec::new()));
                    break;
                }
                let word = String::from_utf8_lossy(lx.text(t)).to_ascii_uppercase();
                match (t.kind, word.as_str()) {
                    (Kind::Atom, "MIN") => r.min = true,
                    (Kind::Atom, "MAX") => r.max = true,
                    (Kind::Atom, "COUNT") => r.count = true,
                    (Kind::Atom, "ALL") => r.all = true,
                    (Kind::Atom, "SAVE") => r.save = true,
                    _ => return Err(Invalid::SearchOption(word)),
                }
                any = true;
            }
            if !any {
                r.all = true;
            }
            search = Some(r);
            next = lx.next();
        }
        // the keys: `$` where a key (or the set of UID) is expected
        let dollar = |edits: &mut Vec<(usize, usize, Vec<u8>)>, start: usize, end: usize| {
            match saved(true) {
                None => {}
                Some(set) if set.is_empty() => edits.push((start, end, b"NOT ALL".to_vec())),
                Some(set) => edits.push((start, end, format!("UID {set}").into_bytes())),
            }
        };
        let mut first = true;
        let mut skip = 0usize;
        while let Some(t) = next {
            next = lx.next();
            if skip > 0 {
                skip -= 1;
                continue;
            }
            if t.kind == Kind::Atom {
                let word = String::from_utf8_lossy(lx.text(t)).to_ascii_uppercase();
                match word.as_str() {
                    "CHARSET" if first => skip = 1,
                    "$" => dollar(&mut edits, t.start, t.end),
                    "UID" => {
                        if let Some(arg) = next {
                            next = lx.next();
                            if lx.is_word(arg, "$") {
                                dollar(&mut edits, t.start, arg.end);
                            }
                        }
                    }
                    "MODSEQ" => {
                        // MODSEQ ["/flags/..." type] value
                        if let Some(arg) = next {
                            next = lx.next();
                            if arg.kind == Kind::Quoted {
                                skip = 2;
                            }
                        }
                    }
                    "HEADER" => skip = 2,
                    w if ONE_ARGUMENT.contains(&w) => skip = 1,
                    _ => {}
                }
            }
            first = false;
        }
    } else {
        return Ok(None);
    }
    if edits.is_empty() && search.is_none() {
        return Ok(None);
    }
    let bytes = if edits.is_empty() {
        None
    } else {
        let mut out = Vec::with_capacity(msg.len() + 64);
        let mut at = 0;
        for (start, end, with) in edits {
            out.extend_from_slice(&msg[at..start]);
            out.extend_from_slice(&with);
            at = end;
        }
        out.extend_from_slice(&msg[at..]);
        Some(out)
    };
    Ok(Some(Rewritten {
        bytes,
        search,
        empty_set,
    }))
}

// ------------------------------------------------------------------ extended LIST

fn word_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == b' ')
        .map(|p| from + p)
        .unwrap_or(b.len())
}

/// A parenthesized list of atoms at `b[at..]`: the atoms (upper case) and where it ends.
fn option_list(b: &[u8], at: usize) -> Option<(Vec<String>, usize)> {
    if b.get(at) != Some(&b'(') {
        return None;
    }
    let close = at + b[at..].iter().position(|&c| c == b')')?;
    let inner = std::str::from_utf8(&b[at + 1..close]).ok()?;
    if !inner
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b' ')
    {
        return None;
    }
    Some((
        inner
            .split_ascii_whitespace()
            .map(|w| w.to_ascii_uppercase())
            .collect(),
        close + 1,
    ))
}

/// `tag LIST (sel) ref pat RETURN (opts)` → `tag LIST ref pat` and the options; `None` when
/// the message is not an extended LIST.
fn extended_list(msg: &[u8]) -> Result<Option<(Vec<u8>, Options)>, Invalid> {
    let tag_end = word_end(msg, 0);
    let cmd_start = tag_end + 1;
    if cmd_start >= msg.len() {
        return Ok(None);
    }
    let cmd_end = word_end(msg, cmd_start);
    if !msg[cmd_start..cmd_end].eq_ignore_ascii_case(b"LIST") || cmd_end + 1 >= msg.len() {
        return Ok(None);
    }
    let mut opts = Options::default();
    let mut found = false;
    let mut args_start = cmd_end + 1;
    // selection options
    if let Some((sel, end)) = option_list(msg, args_start) {
        found = true;
        for o in sel {
            match o.as_str() {
                "SPECIAL-USE" => opts.special_use_only = true,
                _ => return Err(Invalid::ListOption(o)),
            }
        }
        if msg.get(end) != Some(&b' ') {
            return Err(Invalid::Syntax);
        }
        args_start = end + 1;
    }
    // return options, at the end of the last line
    let body_end = if msg.ends_with(b"\r\n") {
        msg.len() - 2
    } else if msg.ends_with(b"\n") {
        msg.len() - 1
    } else {
        return Ok(None);
    };
    let mut args_end = body_end;
    let last_line = msg[..body_end]
        .iter()
        .rposition(|&c| c == b'\n')
        .map(|p| p + 1)
        .unwrap_or(0)
        .max(args_start);
    const RETURN: &[u8] = b" RETURN (";
    if let Some(p) = msg[last_line..body_end]
        .windows(RETURN.len())
        .rposition(|w| w.eq_ignore_ascii_case(RETURN))
    {
        let at = last_line + p;
        if let Some((ret, end)) = option_list(msg, at + RETURN.len() - 1) {
            if end == body_end {
                found = true;
                args_end = at;
                for o in ret {
                    match o.as_str() {
                        "SUBSCRIBED" => opts.subscribed = true,
                        "SPECIAL-USE" | "CHILDREN" => {}
                        _ => return Err(Invalid::ListOption(o)),
                    }
                }
            }
        }
    }
    if !found {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(msg.len());
    out.extend_from_slice(&msg[..cmd_end + 1]);
    out.extend_from_slice(&msg[args_start..args_end]);
    out.extend_from_slice(b"\r\n");
    Ok(Some((out, opts)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::imap_types::command::CommandBody;

    #[test]
    fn plain_commands() {
        let d = command(b"a1 NOOP\r\n").unwrap();
        assert_eq!(d.command.tag.inner(), "a1");
        assert!(matches!(d.command.body, CommandBody::Noop));
        assert_eq!(command(b"a1 FROB\r\n").unwrap_err(), Invalid::Syntax);
        assert_eq!(command(b"a1 NOOP extra\r\n").unwrap_err(), Invalid::Syntax);
        let d = command(b"a2 LIST \"\" \"*\"\r\n").unwrap();
        assert!(matches!(d.command.body, CommandBody::List { .. }));
        assert_eq!(d.list, Options::default());
    }

    #[test]
    fn extended_list_options() {
        let d = command(b"a LIST \"\" \"*\" RETURN (SPECIAL-USE)\r\n").unwrap();
        assert!(matches!(d.command.body, CommandBody::List { .. }));
        let d = command(b"a list (special-use) \"\" *\r\n").unwrap();
        assert!(d.list.special_use_only);
        let d = command(b"a LIST \"\" % return (subscribed children)\r\n").unwrap();
        assert!(d.list.subscribed && !d.list.special_use_only);
        assert_eq!(
            command(b"a LIST (REMOTE) \"\" %\r\n").unwrap_err(),
            Invalid::ListOption("REMOTE".into())
        );
        // a pattern that only looks like options stays a pattern
        let d = command(b"a LIST \"\" \"x RETURN (y)\"\r\n").unwrap();
        assert_eq!(d.list, Options::default());
    }

    fn saved(uid: bool) -> Option<String> {
        Some(if uid { "10:12,15" } else { "1:3,5" }.to_string())
    }

    fn none_saved(_: bool) -> Option<String> {
        Some(String::new())
    }

    /// The command decoded, re-encoded as text.
    fn text(d: &Decoded) -> String {
        use imap_codec::encode::Encoder;
        String::from_utf8(
            imap_codec::CommandCodec::default()
                .encode(&d.command)
                .dump(),
        )
        .unwrap()
    }

    #[test]
    fn search_return_options() {
        let d = command(b"a SEARCH RETURN (MIN max) ALL\r\n").unwrap();
        assert!(matches!(
            d.command.body,
            CommandBody::Search { uid: false, .. }
        ));
        let r = d.search.unwrap();
        assert!(r.min && r.max && !r.all && !r.count && !r.save);
        let d = command(b"a uid search return () seen unseen\r\n").unwrap();
        assert!(matches!(
            d.command.body,
            CommandBody::Search { uid: true, .. }
        ));
        assert_eq!(
            d.search,
            Some(SearchReturn {
                all: true,
                ..Default::default()
            })
        );
        assert_eq!(text(&d), "a UID SEARCH SEEN UNSEEN\r\n");
        let d = command(b"a SEARCH RETURN (SAVE) CHARSET UTF-8 SUBJECT x\r\n").unwrap();
        assert!(d.search.unwrap().save);
        // a plain SEARCH is not an extended one
        assert_eq!(command(b"a SEARCH ALL\r\n").unwrap().search, None);
        assert_eq!(
            command(b"a SEARCH RETURN (PARTIAL 1:5) ALL\r\n").unwrap_err(),
            Invalid::SearchOption("PARTIAL".into())
        );
        assert_eq!(
            command(b"a SEARCH RETURN ALL\r\n").unwrap_err(),
            Invalid::Syntax
        );
        assert!(saves_search(b"a UID SEARCH RETURN (MIN SAVE) FROB\r\n"));
        assert!(!saves_search(b"a SEARCH RETURN (MIN) SAVE\r\n"));
        assert!(!saves_search(b"a FETCH 1 (SAVE)\r\n"));
    }

    #[test]
    fn the_saved_result_where_a_set_is_expected() {
        let d = command_with(b"a FETCH $ (FLAGS)\r\n", &saved).unwrap();
        assert_eq!(text(&d), "a FETCH 1:3,5 FLAGS\r\n");
        assert!(!d.empty_set);
        let d = command_with(b"a UID FETCH $ FLAGS\r\n", &saved).unwrap();
        assert_eq!(text(&d), "a UID FETCH 10:12,15 FLAGS\r\n");
        let d = command_with(b"a STORE $ +FLAGS (\\Seen)\r\n", &saved).unwrap();
        assert_eq!(text(&d), "a STORE 1:3,5 +FLAGS (\\Seen)\r\n");
        let d = command_with(b"a UID COPY $ Trash\r\n", &saved).unwrap();
        assert_eq!(text(&d), "a UID COPY 10:12,15 Trash\r\n");
        let d = command_with(b"a MOVE $ Trash\r\n", &saved).unwrap();
        assert_eq!(text(&d), "a MOVE 1:3,5 Trash\r\n");
        let d = command_with(b"a UID EXPUNGE $\r\n", &saved).unwrap();
        assert_eq!(text(&d), "a UID EXPUNGE 10:12,15\r\n");
        // SEARCH keys: `$` alone or after UID; not as an argument, nor in a string or literal
        let d = command_with(b"a SEARCH $ SUBJECT $ OR UID $ TO \"$\"\r\n", &saved).unwrap();
        assert_eq!(
            text(&d),
            "a SEARCH UID 10:12,15 SUBJECT $ OR UID 10:12,15 TO \"$\"\r\n"
        );
        let d = command_with(
            b"a UID SEARCH RETURN (SAVE) HEADER X-A $ NOT ($) BODY {3}\r\n$ $ $\r\n",
            &saved,
        )
        .unwrap();
        assert_eq!(
            text(&d),
            "a UID SEARCH HEADER X-A $ NOT (UID 10:12,15) BODY {3}\r\n$ $ UID 10:12,15\r\n"
        );
        let d = command_with(b"a SEARCH MODSEQ \"/flags/\\\\seen\" all 5 $\r\n", &saved).unwrap();
        assert_eq!(
            text(&d),
            "a SEARCH MODSEQ \"/flags/\\\\Seen\" all 5 UID 10:12,15\r\n"
        );
        // the empty result
        let d = command_with(b"a FETCH $ FLAGS\r\n", &none_saved).unwrap();
        assert!(d.empty_set);
        let d = command_with(b"a SEARCH UID $ $\r\n", &none_saved).unwrap();
        assert_eq!(text(&d), "a SEARCH NOT ALL NOT ALL\r\n");
        assert!(!d.empty_set);
        // no mailbox: `$` is not understood
        assert_eq!(
            command(b"a FETCH $ FLAGS\r\n").unwrap_err(),
            Invalid::Syntax
        );
        // `$` only stands for a whole set
        assert_eq!(
            command_with(b"a FETCH 1,$ FLAGS\r\n", &saved).unwrap_err(),
            Invalid::Syntax
        );
        // other commands are left alone
        let d = command_with(b"a SELECT $\r\n", &saved).unwrap();
        assert_eq!(text(&d), "a SELECT $\r\n");
    }

    #[test]
    fn continuation_lines() {
        assert_eq!(
            authenticate_data(b"AGpkb2UAc2VjcmV0\r\n").unwrap(),
            Some(b"\0jdoe\0secret".to_vec())
        );
        assert_eq!(authenticate_data(b"*\r\n").unwrap(), None);
        assert!(authenticate_data(b"!!\r\n").is_err());
        assert!(idle_done(b"DONE\r\n"));
        assert!(idle_done(b"done\r\n"));
        assert!(!idle_done(b"a1 NOOP\r\n"));
    }
}
