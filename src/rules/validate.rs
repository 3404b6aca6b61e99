//! Checks of the values a rule is made of, the same for a statement of IOFCMGR and for a row
//! the Postman reads back (a row written by other means, the PL/SQL rules package or plain
//! SQL, is checked again before it runs).

use super::error::{invalid, Result};
use crate::mail::{folder_name, Mailbox};

/// Longest rule name.
pub const MAX_NAME: usize = 64;
/// Longest description (the column's limit).
pub const MAX_DESCRIPTION: usize = 1000;
/// Longest group name (the column's limit).
pub const MAX_GROUP: usize = 128;
/// Longest header field name a clause may name (the column's limit).
pub const MAX_HEADER_NAME: usize = 128;
/// Longest clause operand (the column's limit).
pub const MAX_OPERAND: usize = 4000;
/// Longest single-line action parameter (address, reason, subject, procedure parameter).
pub const MAX_PARAM: usize = 1000;
/// Longest template text.
pub const MAX_TEMPLATE: usize = 4000;
/// Longest auto-reply period, in days.
pub const MAX_DAYS: i64 = 365;

/// A rule name: 1 to 64 letters, digits, `-`, `_` or `.`; kept in lower case (rule names are
/// compared without regard to case).
pub fn rule_name(v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > MAX_NAME {
        return invalid(format!(
            "rule name {v:?}: expected 1 to {MAX_NAME} letters, digits, '-', '_' or '.'"
        ));
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return invalid(format!(
            "rule name {v:?}: only letters, digits, '-', '_' and '.' are allowed"
        ));
    }
    Ok(v.to_ascii_lowercase())
}

/// One line of text (no control characters but tab), at most `max` characters; `what` names
/// the attribute in the message.
pub fn line(what: &str, v: &str, max: usize) -> Result<String> {
    if v.chars().count() > max {
        return invalid(format!("{what}: at most {max} characters"));
    }
    if v.chars().any(|c| c.is_control() && c != '\t') {
        return invalid(format!(
            "{what}: one line of text without control characters"
        ));
    }
    Ok(v.to_string())
}

/// Text that may span lines (no control characters but tab and line breaks).
pub fn text(what: &str, v: &str, max: usize) -> Result<String> {
    if v.chars().count() > max {
        return invalid(format!("{what}: at most {max} characters"));
    }
    if v.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return invalid(format!("{what}: control characters are not allowed"));
    }
    Ok(v.to_string())
}

/// An optional single line: empty means none.
pub fn opt_line(what: &str, v: Option<&str>, max: usize) -> Result<Option<String>> {
    match v {
        None => Ok(None),
        Some("") => Ok(None),
        Some(s) => line(what, s, max).map(Some),
    }
}

/// An optional text: empty means none.
pub fn opt_text(what: &str, v: Option<&str>, max: usize) -> Result<Option<String>> {
    match v {
        None => Ok(None),
        Some("") => Ok(None),
        Some(s) => text(what, s, max).map(Some),
    }
}

/// An envelope address `local@domain` (no display name, no angle brackets).
pub fn address(what: &str, v: &str) -> Result<String> {
    let v = v.trim();
    match Mailbox::parse(v) {
        Some(m) if !m.domain.starts_with('[') => Ok(m.to_string()),
        _ => invalid(format!("{what}={v:?}: expected an address name@domain")),
    }
}

/// A folder of the account (`Archive/2026`): a name the IMAP server accepts; `inbox` in any
/// case is the INBOX.
pub fn folder(v: &str) -> Result<String> {
    let name = folder_name::normalize(v.trim());
    match folder_name::validate(&name) {
        Ok(()) => Ok(name),
        Err(e) => invalid(format!("folder={v:?}: {e}")),
    }
}

/// The name of a header field: printable ASCII without `:` or spaces, at most 128 characters.
pub fn header_name(v: &str) -> Result<String> {
    let v = v.trim().trim_end_matches(':');
    if v.is_empty()
        || v.len() > MAX_HEADER_NAME
        || !v.bytes().all(|b| (33..=126).contains(&b) && b != b':')
    {
        return invalid(format!(
            "header={v:?}: expected a header field name (printable ASCII without ':' or spaces)"
        ));
    }
    Ok(v.to_string())
}

/// A size in bytes: a whole number, optionally followed by `K`, `M` or `G` (times 1024,
/// 1024², 1024³).
pub fn size(v: &str) -> Result<i64> {
    let t = v.trim();
    let (digits, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c.to_ascii_uppercase()),
        _ => (t, 'B'),
    };
    let mult: i64 = match unit {
        'B' => 1,
        'K' => 1024,
        'M' => 1024 * 1024,
        'G' => 1024 * 1024 * 1024,
        _ => {
            return invalid(format!(
                "size {v:?}: expected bytes, or a number with K, M or G"
            ))
        }
    };
    match digits.trim().parse::<i64>() {
        Ok(n) if n >= 0 => n
            .checked_mul(mult)
            .map(Ok)
            .unwrap_or_else(|| invalid(format!("size {v:?} is too large"))),
        _ => invalid(format!(
            "size {v:?}: expected bytes, or a number with K, M or G"
        )),
    }
}

/// The period of an auto-reply, in whole days from 1 to 365.
pub fn days(v: &str) -> Result<i64> {
    match v.trim().parse::<i64>() {
        Ok(n) if (1..=MAX_DAYS).contains(&n) => Ok(n),
        _ => invalid(format!(
            "days={v:?}: expected a whole number of days from 1 to {MAX_DAYS}"
        )),
    }
}

/// `yes`/`no` style values.
pub fn yes_no(what: &str, v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "on" | "enabled" => Ok(true),
        "no" | "n" | "false" | "0" | "off" | "disabled" => Ok(false),
        _ => invalid(format!("{what}={v:?}: expected yes or no")),
    }
}

/// A PL/SQL procedure's name: `name`, `package.name` or `schema.package.name`, each part a
/// plain Oracle identifier (a letter, then letters, digits, `_`, `$`, `#`; at most 128).
pub fn procedure(v: &str) -> Result<String> {
    let v = v.trim();
    let parts: Vec<&str> = v.split('.').collect();
    let ok = !v.is_empty()
        && parts.len() <= 3
        && parts.iter().all(|p| {
            let mut cs = p.chars();
            matches!(cs.next(), Some(c) if c.is_ascii_alphabetic())
                && p.len() <= 128
                && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '#'))
        });
    if !ok {
        return invalid(format!(
            "procedure={v:?}: expected a PL/SQL procedure name (name, package.name or schema.package.name)"
        ));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values() {
        assert_eq!(rule_name("Vacation_2026").unwrap(), "vacation_2026");
        assert!(rule_name("").is_err());
        assert!(rule_name("two words").is_err());
        assert!(rule_name(&"x".repeat(65)).is_err());
        assert_eq!(size("1000").unwrap(), 1000);
        assert_eq!(size("10k").unwrap(), 10240);
        assert_eq!(size("2M").unwrap(), 2 * 1024 * 1024);
        assert!(size("-1").is_err());
        assert!(size("ten").is_err());
        assert!(size("5T").is_err());
        assert!(size("99999999999999G").is_err());
        assert_eq!(days("7").unwrap(), 7);
        assert!(days("0").is_err());
        assert!(days("366").is_err());
        assert_eq!(folder("inbox").unwrap(), "INBOX");
        assert_eq!(folder("Lists/rust").unwrap(), "Lists/rust");
        assert!(folder("a//b").is_err());
        assert!(folder("").is_err());
        assert!(folder("bad*").is_err());
        assert_eq!(header_name("X-Priority:").unwrap(), "X-Priority");
        assert!(header_name("X Priority").is_err());
        assert!(header_name("").is_err());
        assert_eq!(address("to", "bob@Acme.COM").unwrap(), "bob@acme.com");
        assert!(address("to", "bob").is_err());
        assert!(address("to", "Bob <bob@acme.com>").is_err());
        assert_eq!(procedure("app.on_mail").unwrap(), "app.on_mail");
        assert!(procedure("x; drop table es_rule").is_err());
        assert!(procedure("a.b.c.d").is_err());
        assert!(procedure("1abc").is_err());
        assert!(line("subject", "a\nb", 10).is_err());
        assert!(text("template", "a\nb", 10).is_ok());
        assert!(text("template", "a\u{7}b", 10).is_err());
    }
}
