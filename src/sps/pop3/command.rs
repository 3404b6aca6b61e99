//! POP3 command lines (RFC 1939, with CAPA of RFC 2449, STLS of RFC 2595 and AUTH of
//! RFC 5034) parsed into a typed [`Command`]. No I/O and no knowledge of the maildrop: whether
//! a message number exists is the session's business.
//!
//! Keywords are case-insensitive; arguments are separated by spaces, except for PASS, whose
//! argument is the rest of the line (RFC 1939, 13: a password may hold spaces).

use std::fmt;

use crate::sps::auth::MAX_CREDENTIAL;

/// Longest SASL mechanism name (RFC 4422, 3.1).
pub const MAX_MECHANISM: usize = 20;
/// Longest base64 SASL response taken: a PLAIN message of two credentials of the longest
/// length, and an authorization identity as long, encoded.
pub const MAX_SASL_RESPONSE: usize = (3 * MAX_CREDENTIAL + 2).div_ceil(3) * 4;
/// Digits of the largest message number (`u32::MAX`).
const MAX_DIGITS: usize = 10;

/// A secret sent by the client (a password, a SASL response): never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One POP3 command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    User(String),
    Pass(Secret),
    /// APOP (not supported: its shared secret would have to be kept in clear).
    Apop,
    Stat,
    List(Option<u32>),
    Retr(u32),
    Dele(u32),
    Noop,
    Rset,
    Quit,
    /// TOP message lines.
    Top(u32, u32),
    Uidl(Option<u32>),
    Capa,
    Stls,
    /// AUTH alone (the list of mechanisms), or a mechanism, in upper case, with maybe an
    /// initial response (`=` for an empty one is already turned into an empty string).
    Auth(Option<Auth>),
}

/// AUTH with a mechanism.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    pub mechanism: String,
    /// The base64 initial response, as sent.
    pub initial: Option<Secret>,
}

/// Why a command line was refused. `Display` gives the text after `-ERR `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Nothing on the line.
    Empty,
    /// Not a POP3 command.
    Unknown,
    /// A required argument is missing.
    MissingArgument(&'static str),
    /// More arguments than the command takes.
    TooManyArguments,
    /// Not a number in the allowed range.
    BadNumber(&'static str),
    /// An argument longer than allowed.
    TooLong(&'static str),
    /// An argument with characters it may not hold (control characters, invalid UTF-8).
    BadCharacters(&'static str),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => f.write_str("empty command"),
            ParseError::Unknown => f.write_str("unknown command"),
            ParseError::MissingArgument(what) => write!(f, "missing argument: {what}"),
            ParseError::TooManyArguments => f.write_str("too many arguments"),
            ParseError::BadNumber(what) => write!(f, "invalid {what}"),
            ParseError::TooLong(what) => write!(f, "{what} too long"),
            ParseError::BadCharacters(what) => write!(f, "invalid characters in {what}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// The line without its ending (CRLF or a bare LF).
fn strip_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Parses one command line (with or without its ending).
pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
    let line = strip_ending(line);
    if line.iter().all(|b| *b == b' ') {
        return Err(ParseError::Empty);
    }
    let (keyword, rest) = match line.iter().position(|b| *b == b' ') {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, &b""[..]),
    };
    if !(3..=4).contains(&keyword.len()) || !keyword.iter().all(u8::is_ascii_alphabetic) {
        return Err(ParseError::Unknown);
    }
    let mut kw = [0u8; 4];
    kw[..keyword.len()].copy_from_slice(keyword);
    kw.make_ascii_uppercase();
    let kw = &kw[..keyword.len()];
    if kw == b"PASS" {
        return parse_pass(rest);
    }
    let args: Vec<&[u8]> = rest
        .split(|b| *b == b' ')
        .filter(|a| !a.is_empty())
        .collect();
    let cmd = match kw {
        b"USER" => {
            let [user] = exactly::<1>(&args, "user name")?;
            Command::User(text(user, MAX_CREDENTIAL, "user name")?)
        }
        b"APOP" => Command::Apop,
        b"STAT" => none(&args, Command::Stat)?,
        b"NOOP" => none(&args, Command::Noop)?,
        b"RSET" => none(&args, Command::Rset)?,
        b"QUIT" => none(&args, Command::Quit)?,
        b"CAPA" => none(&args, Command::Capa)?,
        b"STLS" => none(&args, Command::Stls)?,
        b"LIST" => Command::List(optional_number(&args)?),
        b"UIDL" => Command::Uidl(optional_number(&args)?),
        b"RETR" => {
            let [n] = exactly::<1>(&args, "message number")?;
            Command::Retr(message_number(n)?)
        }
        b"DELE" => {
            let [n] = exactly::<1>(&args, "message number")?;
            Command::Dele(message_number(n)?)
        }
        b"TOP" => {
            let [n, lines] = exactly::<2>(&args, "message number and line count")?;
            Command::Top(message_number(n)?, line_count(lines)?)
        }
        b"AUTH" => parse_auth(&args)?,
        _ => return Err(ParseError::Unknown),
    };
    Ok(cmd)
}

fn parse_pass(rest: &[u8]) -> Result<Command, ParseError> {
    if rest.is_empty() {
        return Err(ParseError::MissingArgument("password"));
    }
    if rest.len() > MAX_CREDENTIAL {
        return Err(ParseError::TooLong("password"));
    }
    let pass = std::str::from_utf8(rest).map_err(|_| ParseError::BadCharacters("password"))?;
    if pass.bytes().any(|b| b == 0 || b == b'\r' || b == b'\n') {
        return Err(ParseError::BadCharacters("password"));
    }
    Ok(Command::Pass(Secret::new(pass)))
}

fn parse_auth(args: &[&[u8]]) -> Result<Command, ParseError> {
    let (mech, initial) = match args {
        [] => return Ok(Command::Auth(None)),
        [m] => (*m, None),
        [m, i] => (*m, Some(*i)),
        _ => return Err(ParseError::TooManyArguments),
    };
    if mech.len() > MAX_MECHANISM {
        return Err(ParseError::TooLong("mechanism name"));
    }
    if !mech
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
    {
        return Err(ParseError::BadCharacters("mechanism name"));
    }
    let mechanism = String::from_utf8_lossy(mech).to_ascii_uppercase();
    let initial = match initial {
        None => None,
        Some(i) => Some(sasl_text(i)?),
    };
    Ok(Command::Auth(Some(Auth { mechanism, initial })))
}

/// A client's answer to a SASL challenge (`+ `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslResponse {
    /// `*`: the client gives up (RFC 5034, 4).
    Cancel,
    /// The base64 text (empty for `=`), not yet decoded.
    Data(Secret),
}

/// Parses the line sent after a `+ ` challenge.
pub fn parse_sasl_response(line: &[u8]) -> Result<SaslResponse, ParseError> {
    let line = strip_ending(line);
    if line == b"*" {
        return Ok(SaslResponse::Cancel);
    }
    Ok(SaslResponse::Data(sasl_text(line)?))
}

/// A base64 SASL response; `=` stands for an empty one.
fn sasl_text(b: &[u8]) -> Result<Secret, ParseError> {
    if b.len() > MAX_SASL_RESPONSE {
        return Err(ParseError::TooLong("SASL response"));
    }
    if !b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
    {
        return Err(ParseError::BadCharacters("SASL response"));
    }
    let s = if b == b"=" {
        ""
    } else {
        std::str::from_utf8(b).unwrap_or("")
    };
    Ok(Secret::new(s))
}

fn none(args: &[&[u8]], c: Command) -> Result<Command, ParseError> {
    if args.is_empty() {
        Ok(c)
    } else {
        Err(ParseError::TooManyArguments)
    }
}

fn exactly<'a, const N: usize>(
    args: &[&'a [u8]],
    what: &'static str,
) -> Result<[&'a [u8]; N], ParseError> {
    if args.len() > N {
        return Err(ParseError::TooManyArguments);
    }
    args.try_into()
        .map_err(|_| ParseError::MissingArgument(what))
}

fn optional_number(args: &[&[u8]]) -> Result<Option<u32>, ParseError> {
    match args {
        [] => Ok(None),
        [n] => message_number(n).map(Some),
        _ => Err(ParseError::TooManyArguments),
    }
}

fn number(b: &[u8], what: &'static str) -> Result<u32, ParseError> {
    if b.is_empty() || b.len() > MAX_DIGITS || !b.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::BadNumber(what));
    }
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .ok_or(ParseError::BadNumber(what))
}

/// A message number: 1 to `u32::MAX`.
fn message_number(b: &[u8]) -> Result<u32, ParseError> {
    match number(b, "message number")? {
        0 => Err(ParseError::BadNumber("message number")),
        n => Ok(n),
    }
}

/// TOP's count of body lines: 0 to `u32::MAX`.
fn line_count(b: &[u8]) -> Result<u32, ParseError> {
    number(b, "line count")
}

/// Text without control characters, valid UTF-8, at most `max` bytes.
fn text(b: &[u8], max: usize, what: &'static str) -> Result<String, ParseError> {
    if b.len() > max {
        return Err(ParseError::TooLong(what));
    }
    let s = std::str::from_utf8(b).map_err(|_| ParseError::BadCharacters(what))?;
    if s.chars().any(char::is_control) {
        return Err(ParseError::BadCharacters(what));
    }
    Ok(s.to_string())
}

/// A command line as it may be logged: no password, no SASL data, at most 100 characters.
/// `sasl` says the line answers a SASL challenge.
pub fn loggable(line: &[u8], sasl: bool) -> String {
    if sasl {
        return "<SASL response>".into();
    }
    let line = strip_ending(line);
    let kw_end = line.iter().position(|b| *b == b' ').unwrap_or(line.len());
    let kw = &line[..kw_end];
    let shown = if kw.eq_ignore_ascii_case(b"PASS") || kw.eq_ignore_ascii_case(b"AUTH") {
        // AUTH: the mechanism is harmless, the initial response is not
        let mut parts = line.splitn(3, |b| *b == b' ');
        let k = parts.next().unwrap_or_default();
        if kw.eq_ignore_ascii_case(b"AUTH") {
            match (parts.next(), parts.next()) {
                (Some(m), Some(_)) => [k, b" ", m, b" ***"].concat(),
                (Some(m), None) => [k, b" ", m].concat(),
                _ => k.to_vec(),
            }
        } else if line.len() > kw_end {
            [k, b" ***"].concat()
        } else {
            k.to_vec()
        }
    } else {
        line.to_vec()
    };
    let s: String = String::from_utf8_lossy(&shown)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > 100 {
        let mut t: String = s.chars().take(100).collect();
        t.push_str("...");
        t
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Result<Command, ParseError> {
        parse(s.as_bytes())
    }

    #[test]
    fn every_command() {
        assert_eq!(
            p("USER jdoe@acme.com\r\n"),
            Ok(Command::User("jdoe@acme.com".into()))
        );
        assert_eq!(
            p("PASS secret\r\n"),
            Ok(Command::Pass(Secret::new("secret")))
        );
        assert_eq!(
            p("APOP jdoe c4c9334bac560ecc979e58001b3e22fb\r\n"),
            Ok(Command::Apop)
        );
        assert_eq!(p("STAT\r\n"), Ok(Command::Stat));
        assert_eq!(p("LIST\r\n"), Ok(Command::List(None)));
        assert_eq!(p("LIST 2\r\n"), Ok(Command::List(Some(2))));
        assert_eq!(p("RETR 1\r\n"), Ok(Command::Retr(1)));
        assert_eq!(p("DELE 7\r\n"), Ok(Command::Dele(7)));
        assert_eq!(p("NOOP\r\n"), Ok(Command::Noop));
        assert_eq!(p("RSET\r\n"), Ok(Command::Rset));
        assert_eq!(p("QUIT\r\n"), Ok(Command::Quit));
        assert_eq!(p("TOP 1 10\r\n"), Ok(Command::Top(1, 10)));
        assert_eq!(p("TOP 1 0\r\n"), Ok(Command::Top(1, 0)));
        assert_eq!(p("UIDL\r\n"), Ok(Command::Uidl(None)));
        assert_eq!(p("UIDL 3\r\n"), Ok(Command::Uidl(Some(3))));
        assert_eq!(p("CAPA\r\n"), Ok(Command::Capa));
        assert_eq!(p("STLS\r\n"), Ok(Command::Stls));
        assert_eq!(p("AUTH\r\n"), Ok(Command::Auth(None)));
        assert_eq!(
            p("AUTH PLAIN\r\n"),
            Ok(Command::Auth(Some(Auth {
                mechanism: "PLAIN".into(),
                initial: None
            })))
        );
        assert_eq!(
            p("AUTH plain AGpkb2UAc2VjcmV0\r\n"),
            Ok(Command::Auth(Some(Auth {
                mechanism: "PLAIN".into(),
                initial: Some(Secret::new("AGpkb2UAc2VjcmV0"))
            })))
        );
        assert_eq!(
            p("AUTH PLAIN =\r\n"),
            Ok(Command::Auth(Some(Auth {
                mechanism: "PLAIN".into(),
                initial: Some(Secret::new(""))
            })))
        );
        assert_eq!(
            p("AUTH X-OTHER\r\n"),
            Ok(Command::Auth(Some(Auth {
                mechanism: "X-OTHER".into(),
                initial: None
            })))
        );
    }

    #[test]
    fn case_and_endings() {
        assert_eq!(p("stat"), Ok(Command::Stat));
        assert_eq!(p("StAt\n"), Ok(Command::Stat));
        assert_eq!(p("retr 4\r\n"), Ok(Command::Retr(4)));
        assert_eq!(p("uidl  3  \r\n"), Ok(Command::Uidl(Some(3))));
        assert_eq!(p("user JDoe\r\n"), Ok(Command::User("JDoe".into())));
        assert_eq!(p("top 2 5"), Ok(Command::Top(2, 5)));
    }

    #[test]
    fn pass_keeps_spaces() {
        assert_eq!(
            p("PASS my secret  phrase \r\n"),
            Ok(Command::Pass(Secret::new("my secret  phrase ")))
        );
        assert_eq!(p("pass x"), Ok(Command::Pass(Secret::new("x"))));
        assert_eq!(p("PASS\r\n"), Err(ParseError::MissingArgument("password")));
        assert_eq!(p("PASS \r\n"), Err(ParseError::MissingArgument("password")));
        assert_eq!(
            parse(b"PASS a\0b\r\n"),
            Err(ParseError::BadCharacters("password"))
        );
        assert_eq!(
            parse(b"PASS \xff\xfe\r\n"),
            Err(ParseError::BadCharacters("password"))
        );
        let long = format!("PASS {}\r\n", "x".repeat(MAX_CREDENTIAL + 1));
        assert_eq!(p(&long), Err(ParseError::TooLong("password")));
        let ok = format!("PASS {}\r\n", "x".repeat(MAX_CREDENTIAL));
        assert!(p(&ok).is_ok());
        // the password never shows in Debug
        let c = p("PASS hunter2").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn unknown_and_empty() {
        assert_eq!(p("\r\n"), Err(ParseError::Empty));
        assert_eq!(p("   \r\n"), Err(ParseError::Empty));
        assert_eq!(p(""), Err(ParseError::Empty));
        assert_eq!(p("HELO\r\n"), Err(ParseError::Unknown));
        assert_eq!(p("STATS\r\n"), Err(ParseError::Unknown));
        assert_eq!(p("ST\r\n"), Err(ParseError::Unknown));
        assert_eq!(p(" STAT\r\n"), Err(ParseError::Unknown));
        assert_eq!(p("ST4T\r\n"), Err(ParseError::Unknown));
        assert_eq!(p("STAT\t\r\n"), Err(ParseError::Unknown));
        assert_eq!(parse(b"\xc3\xa9t\xc3\xa9\r\n"), Err(ParseError::Unknown));
        assert_eq!(p("XTND XMIT\r\n"), Err(ParseError::Unknown));
    }

    #[test]
    fn bad_arguments() {
        assert_eq!(p("STAT 1"), Err(ParseError::TooManyArguments));
        assert_eq!(p("QUIT now"), Err(ParseError::TooManyArguments));
        assert_eq!(p("CAPA x"), Err(ParseError::TooManyArguments));
        assert_eq!(p("LIST 1 2"), Err(ParseError::TooManyArguments));
        assert_eq!(
            p("RETR"),
            Err(ParseError::MissingArgument("message number"))
        );
        assert_eq!(
            p("DELE"),
            Err(ParseError::MissingArgument("message number"))
        );
        assert_eq!(p("RETR 1 2"), Err(ParseError::TooManyArguments));
        assert_eq!(p("RETR 0"), Err(ParseError::BadNumber("message number")));
        assert_eq!(p("RETR -1"), Err(ParseError::BadNumber("message number")));
        assert_eq!(p("RETR +1"), Err(ParseError::BadNumber("message number")));
        assert_eq!(p("RETR 1a"), Err(ParseError::BadNumber("message number")));
        assert_eq!(p("RETR one"), Err(ParseError::BadNumber("message number")));
        assert_eq!(p("RETR 4294967295"), Ok(Command::Retr(u32::MAX)));
        assert_eq!(
            p("RETR 4294967296"),
            Err(ParseError::BadNumber("message number"))
        );
        assert_eq!(
            p("RETR 99999999999999999999"),
            Err(ParseError::BadNumber("message number"))
        );
        assert_eq!(p("RETR 0000000001"), Ok(Command::Retr(1)));
        assert_eq!(
            p("RETR 00000000001"),
            Err(ParseError::BadNumber("message number"))
        );
        assert_eq!(p("LIST 0"), Err(ParseError::BadNumber("message number")));
        assert_eq!(p("UIDL x"), Err(ParseError::BadNumber("message number")));
        assert_eq!(
            p("TOP 1"),
            Err(ParseError::MissingArgument("message number and line count"))
        );
        assert_eq!(p("TOP 1 2 3"), Err(ParseError::TooManyArguments));
        assert_eq!(p("TOP 0 2"), Err(ParseError::BadNumber("message number")));
        assert_eq!(p("TOP 1 -2"), Err(ParseError::BadNumber("line count")));
        assert_eq!(p("USER"), Err(ParseError::MissingArgument("user name")));
        assert_eq!(p("USER a b"), Err(ParseError::TooManyArguments));
        assert_eq!(
            parse(b"USER a\x01b"),
            Err(ParseError::BadCharacters("user name"))
        );
        assert_eq!(
            parse(b"USER \xff"),
            Err(ParseError::BadCharacters("user name"))
        );
        let long = format!("USER {}", "u".repeat(MAX_CREDENTIAL + 1));
        assert_eq!(p(&long), Err(ParseError::TooLong("user name")));
        assert_eq!(p("AUTH PLAIN a b"), Err(ParseError::TooManyArguments));
        assert_eq!(
            p("AUTH PL@IN"),
            Err(ParseError::BadCharacters("mechanism name"))
        );
        assert_eq!(
            p(&format!("AUTH {}", "A".repeat(MAX_MECHANISM + 1))),
            Err(ParseError::TooLong("mechanism name"))
        );
        assert_eq!(
            p("AUTH PLAIN abc$"),
            Err(ParseError::BadCharacters("SASL response"))
        );
        assert_eq!(
            p(&format!("AUTH PLAIN {}", "A".repeat(MAX_SASL_RESPONSE + 4))),
            Err(ParseError::TooLong("SASL response"))
        );
    }

    #[test]
    fn sasl_responses() {
        assert_eq!(parse_sasl_response(b"*\r\n"), Ok(SaslResponse::Cancel));
        assert_eq!(
            parse_sasl_response(b"AGpkb2UAc2VjcmV0\r\n"),
            Ok(SaslResponse::Data(Secret::new("AGpkb2UAc2VjcmV0")))
        );
        assert_eq!(
            parse_sasl_response(b"=\r\n"),
            Ok(SaslResponse::Data(Secret::new("")))
        );
        assert_eq!(
            parse_sasl_response(b"QUIT\r\n"),
            Ok(SaslResponse::Data(Secret::new("QUIT")))
        );
        assert_eq!(
            parse_sasl_response(b"a b\r\n"),
            Err(ParseError::BadCharacters("SASL response"))
        );
    }

    #[test]
    fn log_forms_hide_secrets() {
        assert_eq!(loggable(b"PASS hunter2\r\n", false), "PASS ***");
        assert_eq!(loggable(b"pass\r\n", false), "pass");
        assert_eq!(
            loggable(b"AUTH PLAIN AGpkb2UAc2VjcmV0\r\n", false),
            "AUTH PLAIN ***"
        );
        assert_eq!(loggable(b"AUTH PLAIN\r\n", false), "AUTH PLAIN");
        assert_eq!(loggable(b"AGpkb2UAc2VjcmV0\r\n", true), "<SASL response>");
        assert_eq!(loggable(b"RETR 1\r\n", false), "RETR 1");
        assert_eq!(loggable(b"USER a\x01\r\n", false), "USER a?");
        assert!(loggable("X".repeat(500).as_bytes(), false).len() <= 103);
    }

    #[test]
    fn error_texts() {
        assert_eq!(ParseError::Unknown.to_string(), "unknown command");
        assert_eq!(
            ParseError::BadNumber("message number").to_string(),
            "invalid message number"
        );
    }

    proptest! {
        #[test]
        fn random_lines_never_panic(line in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&line);
            let _ = parse_sasl_response(&line);
            let _ = loggable(&line, false);
        }

        #[test]
        fn command_like_lines_never_panic(
            kw in prop::sample::select(vec![
                "USER", "PASS", "APOP", "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET",
                "QUIT", "TOP", "UIDL", "CAPA", "STLS", "AUTH", "list", "Top",
            ]),
            args in "[ 0-9a-zA-Z=+/*\\-\t\u{0}\u{e9}]{0,40}",
        ) {
            let line = format!("{kw} {args}\r\n");
            if let Ok(Command::Retr(n) | Command::Dele(n)) = parse(line.as_bytes()) {
                prop_assert!(n >= 1);
            }
            let _ = loggable(line.as_bytes(), false);
        }
    }
}
