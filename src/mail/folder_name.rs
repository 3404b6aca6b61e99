//! Folder (mailbox) names, as every part of esmail that names a folder sees them: INBOX
//! (case-insensitive), the hierarchy delimiter `/`, and the validation of a name to create.
//! The IMAP server (`sps::imap::names`) and the server-side rules (`copyto`, `moveto`) share it.

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
