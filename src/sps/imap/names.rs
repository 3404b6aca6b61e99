//! Mailbox names: INBOX (case-insensitive), validation of the names clients create, and the
//! LIST / LSUB patterns (`*` matches anything, `%` anything but the hierarchy delimiter).
//!
//! Names are kept as the client sends them (modified UTF-7 as it is); the hierarchy
//! delimiter is `/`.

use imap_codec::imap_types::mailbox::Mailbox;

pub use crate::mail::folder_name::{
    ancestors, is_below, normalize, validate, NameError, INBOX, SEP,
};

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
