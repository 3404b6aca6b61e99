//! Addresses and names of the directory: `name@domain`, each domain one namespace.

use super::error::{invalid, Result};

/// Longest local part (RFC 5321, 4.5.3.1.1).
pub const MAX_LOCAL: usize = 64;
/// Longest domain name (RFC 1035).
pub const MAX_DOMAIN: usize = 253;

/// A checked address; `key()` is how it is compared (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub local: String,
    pub domain: String,
}

impl Address {
    /// Parses `local@domain`, or a bare `local` in `default_domain`.
    pub fn parse(s: &str, default_domain: Option<&str>) -> Result<Address> {
        let s = s.trim();
        let (local, domain) = match s.rsplit_once('@') {
            Some((l, d)) => (l, d.to_string()),
            None => match default_domain {
                Some(d) => (s, d.to_string()),
                None => return invalid(format!("{s:?} is not an address (name@domain)")),
            },
        };
        check_local(local)?;
        let domain = check_domain(&domain)?;
        Ok(Address {
            local: local.to_string(),
            domain,
        })
    }

    pub fn key(&self) -> String {
        format!("{}@{}", self.local.to_lowercase(), self.domain)
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// A directory name or username: an RFC 5321 dot-atom local part.
pub fn check_local(name: &str) -> Result<()> {
    if name.is_empty() {
        return invalid("the name is empty");
    }
    if name.len() > MAX_LOCAL {
        return invalid(format!(
            "the name {name:?} is longer than {MAX_LOCAL} characters"
        ));
    }
    if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
        return invalid(format!("the name {name:?} has a misplaced '.'"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(*c)))
    {
        return invalid(format!(
            "the name {name:?} holds {c:?}, which an address cannot"
        ));
    }
    Ok(())
}

/// A domain name: dot-separated labels of letters, digits and hyphens; returned in lower case.
pub fn check_domain(name: &str) -> Result<String> {
    let d = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if d.is_empty() {
        return invalid("the domain name is empty");
    }
    if d.len() > MAX_DOMAIN {
        return invalid(format!(
            "the domain name {d:?} is longer than {MAX_DOMAIN} characters"
        ));
    }
    for label in d.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return invalid(format!("{d:?} is not a domain name (label {label:?})"));
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_never_panics_and_keys_are_stable(s in "(?s).{0,80}", d in "[a-z.-]{0,20}") {
            if let Ok(a) = Address::parse(&s, Some(&d)) {
                let again = Address::parse(&a.to_string(), None).expect("a parsed address parses again");
                prop_assert_eq!(again.key(), a.key());
            }
        }
    }

    #[test]
    fn parses_full_and_bare() {
        let a = Address::parse("JDoe@Acme.COM", None).unwrap();
        assert_eq!(a.to_string(), "JDoe@acme.com");
        assert_eq!(a.key(), "jdoe@acme.com");
        let b = Address::parse("jh", Some("acme.com")).unwrap();
        assert_eq!(b.key(), "jh@acme.com");
    }

    #[test]
    fn refuses_bad_names() {
        for bad in ["", "a b", ".x", "x.", "a..b", "a\"b", "é"] {
            assert!(check_local(bad).is_err(), "{bad:?}");
        }
        for bad in ["", "a..b", "-a.com", "a_b.com", "a b.com"] {
            assert!(check_domain(bad).is_err(), "{bad:?}");
        }
        assert!(Address::parse("jh", None).is_err());
        assert!(check_local(&"x".repeat(65)).is_err());
    }
}
