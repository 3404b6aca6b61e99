//! Mail as the servers see it: envelope addresses, and intake (the checks a submission goes
//! through and the submission itself), shared by every way mail comes in.

pub mod auto;
pub mod folder_name;
pub mod intake;
pub mod mime;
pub mod structure;

/// Longest envelope address accepted, in bytes (RFC 5321, 4.5.3.1.3: a path is at most 256
/// octets with its angle brackets).
pub const MAX_ADDRESS: usize = 254;

/// An envelope address, `local@domain`. The domain is kept in lower case; the local part as
/// given (its case matters to other systems, not to ours).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox {
    pub local: String,
    pub domain: String,
}

impl Mailbox {
    /// Parses `local@domain` as it comes out of an SMTP path (angle brackets and source routes
    /// already removed). Refuses an empty part, spaces or control characters, and more than
    /// [`MAX_ADDRESS`] bytes.
    pub fn parse(s: &str) -> Option<Mailbox> {
        if s.is_empty() || s.len() > MAX_ADDRESS {
            return None;
        }
        if s.chars().any(|c| c.is_control() || c == ' ') {
            return None;
        }
        let (local, domain) = s.rsplit_once('@')?;
        if local.is_empty() || domain.is_empty() || local.len() > 64 {
            return None;
        }
        let domain = domain.trim_end_matches('.').to_lowercase();
        let literal = domain.starts_with('[') && domain.ends_with(']');
        if !literal
            && (domain.is_empty()
                || domain
                    .split('.')
                    .any(|l| l.is_empty() || l.len() > 63 || l.contains(['@', '[', ']'])))
        {
            return None;
        }
        Some(Mailbox {
            local: local.to_string(),
            domain,
        })
    }

    /// How the directory compares names: the local part in lower case.
    pub fn name_key(&self) -> String {
        self.local.to_lowercase()
    }

    /// The whole address in lower case, as block lists and logins compare it.
    pub fn key(&self) -> String {
        format!("{}@{}", self.name_key(), self.domain)
    }
}

impl std::fmt::Display for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_normalises_the_domain() {
        let m = Mailbox::parse("JDoe@Acme.COM").unwrap();
        assert_eq!(m.to_string(), "JDoe@acme.com");
        assert_eq!(m.key(), "jdoe@acme.com");
        assert_eq!(m.name_key(), "jdoe");
        assert!(Mailbox::parse("a@[127.0.0.1]").is_some());
        assert_eq!(Mailbox::parse("a@b.c.").unwrap().domain, "b.c");
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "",
            "a",
            "@b",
            "a@",
            "a@b..c",
            "a b@c",
            "a@b\r\n",
            "x\u{0}@y",
            &format!("{}@b", "x".repeat(65)),
            &format!("a@{}", "b".repeat(300)),
        ] {
            assert!(Mailbox::parse(bad).is_none(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_reparses(s in "(?s).{0,300}") {
            if let Some(m) = Mailbox::parse(&s) {
                let again = Mailbox::parse(&m.to_string()).expect("reparses");
                prop_assert_eq!(again, m);
            }
        }
    }
}
