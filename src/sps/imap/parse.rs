//! Decoding the messages of a session with imap-codec: commands, AUTHENTICATE data lines,
//! IDLE's DONE. imap-codec does not know the extended LIST of RFC 5258 / RFC 6154
//! (`LIST (SPECIAL-USE) "" *`, `LIST "" * RETURN (SUBSCRIBED SPECIAL-USE)`): those options
//! are taken off here and the plain LIST that remains is decoded as usual.

use imap_codec::decode::Decoder;
use imap_codec::imap_types::auth::AuthenticateData;
use imap_codec::imap_types::command::Command;
use imap_codec::imap_types::IntoStatic;
use imap_codec::{AuthenticateDataCodec, CommandCodec, IdleDoneCodec};

use super::list::Options;

/// A decoded command, with the options of an extended LIST.
#[derive(Debug)]
pub struct Decoded {
    pub command: Command<'static>,
    pub list: Options,
}

/// Why a message is not a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Not understood.
    Syntax,
    /// A LIST option this server does not have.
    ListOption(String),
}

pub fn command(msg: &[u8]) -> Result<Decoded, Invalid> {
    let (bytes, list) = match extended_list(msg)? {
        Some((b, o)) => (std::borrow::Cow::Owned(b), o),
        None => (std::borrow::Cow::Borrowed(msg), Options::default()),
    };
    match CommandCodec::default().decode(&bytes) {
        Ok(([], c)) => Ok(Decoded {
            command: c.into_static(),
            list,
        }),
        _ => Err(Invalid::Syntax),
    }
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
