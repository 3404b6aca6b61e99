//! Message flags as the store keeps them (space-separated: `\Seen \Flagged $Label1`) and as
//! IMAP shows them: the five system flags, keywords, and `\Recent`, which is never stored.

use imap_codec::imap_types::flag::{Flag, StoreType};

/// The system flags a client may set, in the order they are shown.
pub const SYSTEM: [&str; 5] = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];
pub const SEEN: &str = "\\Seen";
pub const DELETED: &str = "\\Deleted";
/// Most keywords a message may carry.
pub const MAX_KEYWORDS: usize = 64;
/// Longest stored flag string (the column holds 4000 characters).
pub const MAX_STORED: usize = 3900;

/// The flags of one message: system flags in their canonical spelling, then keywords in the
/// order they were first set; no duplicates (flags are case-insensitive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags(Vec<String>);

/// A flag a client may not set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagError {
    /// `\Recent`, or an unknown `\Something`.
    NotSettable(String),
    TooMany,
}

impl std::fmt::Display for FlagError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlagError::NotSettable(s) => write!(f, "flag {s} cannot be set"),
            FlagError::TooMany => f.write_str("too many keywords"),
        }
    }
}

fn system(f: &str) -> Option<&'static str> {
    SYSTEM.iter().copied().find(|s| s.eq_ignore_ascii_case(f))
}

impl Flags {
    /// Reads stored flags (unknown `\` flags are dropped).
    pub fn parse(stored: &str) -> Flags {
        let mut f = Flags::default();
        for w in stored.split_ascii_whitespace() {
            if w.starts_with('\\') {
                if let Some(s) = system(w) {
                    f.insert(s);
                }
            } else {
                f.insert(w);
            }
        }
        f
    }

    /// The stored form.
    pub fn stored(&self) -> String {
        self.0.join(" ")
    }

    pub fn has(&self, flag: &str) -> bool {
        self.0.iter().any(|f| f.eq_ignore_ascii_case(flag))
    }

    /// Adds a flag; returns whether it was new.
    pub fn insert(&mut self, flag: &str) -> bool {
        if self.has(flag) {
            return false;
        }
        match system(flag) {
            Some(s) => {
                // keep system flags first, in their order
                let rank = |f: &str| SYSTEM.iter().position(|s| *s == f);
                let me = rank(s).unwrap_or(0);
                let at = self
                    .0
                    .iter()
                    .position(|f| rank(f).is_none_or(|r| r > me))
                    .unwrap_or(self.0.len());
                self.0.insert(at, s.to_string());
            }
            None => self.0.push(flag.to_string()),
        }
        true
    }

    /// Removes a flag; returns whether it was there.
    pub fn remove(&mut self, flag: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|f| !f.eq_ignore_ascii_case(flag));
        self.0.len() != before
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The keywords (flags without a backslash).
    pub fn keywords(&self) -> impl Iterator<Item = &str> {
        self.iter().filter(|f| !f.starts_with('\\'))
    }

    /// `(\Seen \Recent $Label1)`.
    pub fn render(&self, recent: bool) -> String {
        let mut s = String::from("(");
        let mut first = true;
        let mut put = |s: &mut String, f: &str| {
            if !first {
                s.push(' ');
            }
            first = false;
            s.push_str(f);
        };
        for f in &self.0 {
            put(&mut s, f);
        }
        if recent {
            put(&mut s, "\\Recent");
        }
        s.push(')');
        s
    }

    /// The flags after a STORE of `given`.
    pub fn apply(&self, kind: StoreType, given: &Flags) -> Flags {
        match kind {
            StoreType::Replace => given.clone(),
            StoreType::Add => {
                let mut f = self.clone();
                for g in given.iter() {
                    f.insert(g);
                }
                f
            }
            StoreType::Remove => {
                let mut f = self.clone();
                for g in given.iter() {
                    f.remove(g);
                }
                f
            }
        }
    }

    /// Whether the store can keep these flags.
    pub fn check(&self) -> Result<(), FlagError> {
        if self.keywords().count() > MAX_KEYWORDS || self.stored().len() > MAX_STORED {
            return Err(FlagError::TooMany);
        }
        Ok(())
    }
}

/// The flags of a STORE or APPEND command.
pub fn from_imap(flags: &[Flag<'_>]) -> Result<Flags, FlagError> {
    let mut f = Flags::default();
    for flag in flags {
        match flag {
            Flag::Answered => f.insert(SYSTEM[0]),
            Flag::Flagged => f.insert(SYSTEM[1]),
            Flag::Deleted => f.insert(SYSTEM[2]),
            Flag::Seen => f.insert(SYSTEM[3]),
            Flag::Draft => f.insert(SYSTEM[4]),
            Flag::Extension(_) => return Err(FlagError::NotSettable(flag.to_string())),
            Flag::Keyword(k) => f.insert(k.as_ref()),
        };
    }
    f.check()?;
    Ok(f)
}

/// The FLAGS of a mailbox: the system flags and the keywords in use.
pub fn mailbox_flags(keywords: &[String]) -> String {
    let mut s = SYSTEM.join(" ");
    for k in keywords {
        s.push(' ');
        s.push_str(k);
    }
    format!("({s})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_flags_round_trip() {
        let f = Flags::parse("$Label1 \\seen  \\Flagged \\Recent \\Bogus $label1 Junk");
        assert_eq!(f.stored(), "\\Flagged \\Seen $Label1 Junk");
        assert_eq!(f.render(false), "(\\Flagged \\Seen $Label1 Junk)");
        assert_eq!(f.render(true), "(\\Flagged \\Seen $Label1 Junk \\Recent)");
        assert_eq!(Flags::default().render(false), "()");
        assert_eq!(Flags::default().render(true), "(\\Recent)");
        assert!(f.has("\\SEEN") && f.has("junk") && !f.has("\\Deleted"));
        assert_eq!(f.keywords().collect::<Vec<_>>(), vec!["$Label1", "Junk"]);
        assert_eq!(Flags::parse(""), Flags::default());
    }

    #[test]
    fn store_operations() {
        let f = Flags::parse("\\Seen $a");
        let g = Flags::parse("\\Deleted $b");
        assert_eq!(
            f.apply(StoreType::Add, &g).stored(),
            "\\Deleted \\Seen $a $b"
        );
        assert_eq!(
            f.apply(StoreType::Remove, &Flags::parse("\\seen $A"))
                .stored(),
            ""
        );
        assert_eq!(f.apply(StoreType::Replace, &g), g);
        let mut h = Flags::parse("\\Draft");
        h.insert("\\Answered");
        h.insert("\\Seen");
        assert_eq!(h.stored(), "\\Answered \\Seen \\Draft");
    }

    #[test]
    fn client_flags() {
        let given = vec![
            Flag::Seen,
            Flag::Keyword("NIL".try_into().unwrap()),
            Flag::Deleted,
        ];
        assert_eq!(from_imap(&given).unwrap().stored(), "\\Deleted \\Seen NIL");
        let recent = Flag::system("Recent".try_into().unwrap());
        assert!(matches!(
            from_imap(&[recent]),
            Err(FlagError::NotSettable(_))
        ));
        let many: Vec<Flag> = (0..100)
            .map(|i| Flag::Keyword(format!("k{i}").try_into().unwrap()))
            .collect();
        assert_eq!(from_imap(&many), Err(FlagError::TooMany));
        assert_eq!(
            mailbox_flags(&["$a".into()]),
            "(\\Answered \\Flagged \\Deleted \\Seen \\Draft $a)"
        );
    }
}
