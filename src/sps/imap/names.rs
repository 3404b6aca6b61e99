//! Mailbox names: INBOX (case-insensitive), validation of the names clients create, and the
//! LIST / LSUB patterns (`*` matches anything, `%` anything but the hierarchy delimiter).
//!
//! Names are kept as the client sends them (modified UTF-7 as it is); the hierarchy
//! delimiter is `/`.

use imap_codec::imap_types::mailbox::Mailbox;

/// The hierarchy delimiter.
pub const SEP: char = '/';
/// Longest name, in bytes.
pub const MAX_NAME: usize = 255;
/// Deepest hierarchy.
pub const MAX_DEPTH: usize = 32;

pub const INBOX: &str = "INBOX";

/// Why a name cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong,
    TooDeep,
    /// A control character, a wildcard, or bytes that are not UTF-8.
    BadCharacter,
    /// An empty level: a leading, trailing or doubled delimiter.
    EmptyLevel,
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameError::Empty => "empty mailbox name",
            NameError::TooLong => "mailbox name too long",
            NameError::TooDeep => "mailbox hierarchy too deep",
            NameError::BadCharacter => "invalid character in mailbox name",
            NameError::EmptyLevel => "empty level in mailbox name",
        })
    }
}

/// A mailbox argument as a name: `INBOX` (any case) becomes `INBOX`, and so does the first
/// level of `inbox/...`. Bytes that are not UTF-8 are refused.
pub fn from_mailbox(m: &Mailbox<'_>) -> Result<String, NameError> {
    match m {
        Mailbox::Inbox => Ok(INBOX.to_string()),
        Mailbox::Other(o) => {
            let s = std::str::from_utf8(o.as_ref()).map_err(|_| NameError::BadCharacter)?;
            Ok(normalize(s))
        }
    }
}

/// `inbox` → `INBOX`, `Inbox/x` → `INBOX/x`; other names unchanged.
pub fn normalize(s: &str) -> String {
    if s.len() >= 5 && s.is_char_boundary(5) && s[..5].eq_ignore_ascii_case(INBOX) {
        let rest = &s[5..];
        if rest.is_empty() || rest.starts_with(SEP) {
            return format!("{INBOX}{rest}");
        }
    }
    s.to_string()
}

/// Checks a name a client wants to create (or rename to).
pub fn validate(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME {
        return Err(NameError::TooLong);
    }
    if name.chars().any(|c| c.is_control() || c == '*' || c == '%') {
        return Err(NameError::BadCharacter);
    }
    let levels: Vec<&str> = name.split(SEP).collect();
    if levels.iter().any(|l| l.is_empty()) {
        return Err(NameError::EmptyLevel);
    }
    if levels.len() > MAX_DEPTH {
        return Err(NameError::TooDeep);
    }
    Ok(())
}

/// The names above `name`, outermost first: `a/b/c` → `a`, `a/b`.
pub fn ancestors(name: &str) -> Vec<&str> {
    name.char_indices()
        .filter(|(_, c)| *c == SEP)
        .map(|(i, _)| &name[..i])
        .filter(|a| !a.is_empty())
        .collect()
}

/// Whether `child` is below `parent` (at any depth).
pub fn is_below(child: &str, parent: &str) -> bool {
    child.len() > parent.len() + 1
        && child.starts_with(parent)
        && child[parent.len()..].starts_with(SEP)
}

/// The pattern of a LIST or LSUB: the reference and the mailbox argument joined, with a
/// leading INBOX made upper case so that it matches case-insensitively.
pub fn pattern(reference: &str, mailbox: &str) -> String {
    let joined = if reference.is_empty() || mailbox.starts_with(SEP) && reference.ends_with(SEP) {
        format!("{reference}{}", mailbox.trim_start_matches(SEP))
    } else {
        format!("{reference}{mailbox}")
    };
    normalize(&joined)
}

/// Whether `name` matches a LIST pattern.
pub fn matches(pattern: &str, name: &str) -> bool {
    // collapse runs of wildcards: `*` absorbs `%`, and `%%` is `%`
    let mut p: Vec<u8> = Vec::with_capacity(pattern.len());
    for &b in pattern.as_bytes() {
        match (p.last().copied(), b) {
            (Some(b'*'), b'*' | b'%') => {}
            (Some(b'%'), b'%') => {}
            (Some(b'%'), b'*') => {
                p.pop();
                p.push(b'*');
            }
            _ => p.push(b),
        }
    }
    let fixed = p.iter().filter(|&&b| b != b'*' && b != b'%').count();
    let n = name.as_bytes();
    if fixed > n.len() {
        return false;
    }
    // the set of pattern positions reachable after each byte of the name
    let mut now = vec![false; p.len() + 1];
    now[0] = true;
    close(&p, &mut now);
    for &c in n {
        let mut next = vec![false; p.len() + 1];
        let mut any = false;
        for i in 0..p.len() {
            if !now[i] {
                continue;
            }
            match p[i] {
                b'*' => {
                    next[i] = true;
                    any = true;
                }
                b'%' => {
                    if c != SEP as u8 {
                        next[i] = true;
                        any = true;
                    }
                }
                b => {
                    if b == c {
                        next[i + 1] = true;
                        any = true;
                    }
                }
            }
        }
        if !any {
            return false;
        }
        close(&p, &mut next);
        now = next;
    }
    now[p.len()]
}

/// Wildcards match the empty string too: a reachable wildcard makes the next position
/// reachable.
fn close(p: &[u8], set: &mut [bool]) {
    for i in 0..p.len() {
        if set[i] && (p[i] == b'*' || p[i] == b'%') {
            set[i + 1] = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_is_case_insensitive() {
        assert_eq!(normalize("inbox"), "INBOX");
        assert_eq!(normalize("InBoX/Sub"), "INBOX/Sub");
        assert_eq!(normalize("Inboxes"), "Inboxes");
        assert_eq!(normalize("Archive"), "Archive");
        assert_eq!(normalize("inbo"), "inbo");
        assert_eq!(normalize("inboé"), "inboé");
        let m = Mailbox::try_from("iNbOx").unwrap();
        assert_eq!(from_mailbox(&m).unwrap(), "INBOX");
        let m = Mailbox::try_from("Work/2026").unwrap();
        assert_eq!(from_mailbox(&m).unwrap(), "Work/2026");
    }

    #[test]
    fn names_are_validated() {
        assert!(validate("Archive/2026").is_ok());
        assert!(validate("p&AOQA5A-").is_ok());
        assert_eq!(validate(""), Err(NameError::Empty));
        assert_eq!(validate("/a"), Err(NameError::EmptyLevel));
        assert_eq!(validate("a/"), Err(NameError::EmptyLevel));
        assert_eq!(validate("a//b"), Err(NameError::EmptyLevel));
        assert_eq!(validate("a\tb"), Err(NameError::BadCharacter));
        assert_eq!(validate("a*"), Err(NameError::BadCharacter));
        assert_eq!(validate("a%b"), Err(NameError::BadCharacter));
        assert_eq!(validate(&"x".repeat(256)), Err(NameError::TooLong));
        assert_eq!(validate(&vec!["a"; 33].join("/")), Err(NameError::TooDeep));
    }

    #[test]
    fn hierarchy() {
        assert_eq!(ancestors("a/b/c"), vec!["a", "a/b"]);
        assert!(ancestors("a").is_empty());
        assert!(is_below("a/b", "a"));
        assert!(is_below("a/b/c", "a"));
        assert!(!is_below("ab", "a"));
        assert!(!is_below("a", "a"));
    }

    #[test]
    fn list_patterns() {
        assert!(matches("*", "a/b/c"));
        assert!(matches("%", "a"));
        assert!(!matches("%", "a/b"));
        assert!(matches("a/%", "a/b"));
        assert!(!matches("a/%", "a/b/c"));
        assert!(matches("a/%/%", "a/b/c"));
        assert!(matches("a/*test4", "a/test3/test4"));
        assert!(!matches("a/*test4", "a/test3/test4/test5"));
        assert!(matches("a/*test*", "a/test3/test4/test5"));
        assert!(matches("a/%3/%", "a/test3/test4"));
        assert!(matches("a/%t*4", "a/test3/test4"));
        assert!(matches("INBOX", "INBOX"));
        assert!(!matches("INBOX", "INBOX/x"));
        assert!(!matches("", "a"));
        assert!(matches("a**%%*b", "a/x/b"));
        assert!(!matches("a%%b", "a/b/b/x"));
        assert!(matches("imaptest*", "imaptest"));
        assert!(matches("imaptest*", "imaptest2"));
        // no exponential blow-up
        let p = "*a".repeat(100);
        assert!(!matches(&p, &"a".repeat(99)));
        assert_eq!(pattern("imaptest/", "*"), "imaptest/*");
        assert_eq!(pattern("", "inbox"), "INBOX");
        assert_eq!(pattern("a/", "/b"), "a/b");
    }
}
