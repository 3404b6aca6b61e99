//! Loop protection. Every message a rule forwards carries the chain of accounts whose rules
//! forwarded it, one `X-esmail-Loop: <address>` field per account, copied from the message it
//! forwards plus its own. A message that already passed through an account's forward, or that
//! was forwarded [`MAX_HOPS`] times, is delivered there but not forwarded again. A blind copy
//! (`bcc`) is the same stored message, which cannot get a new field: the store remembers which
//! account's rules forwarded or blind-copied which message (`es_rule_forward`), and a message
//! that comes back to such an account is delivered but not sent on again. Auto-replies and
//! notices are never sent about automatic messages ([`crate::mail::auto`]).

use crate::mail::structure::header_values;

/// The header field that records the forwarding chain.
pub const LOOP_HEADER: &str = "X-esmail-Loop";

/// Most forwards a message may go through.
pub const MAX_HOPS: usize = 8;

/// The accounts (lower case) whose rules forwarded the message so far, oldest first.
pub fn chain(raw: &[u8]) -> Vec<String> {
    header_values(raw, LOOP_HEADER)
        .into_iter()
        .map(|v| v.trim().trim_matches(['<', '>']).to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Why `account`'s rules must not forward or blind-copy this message; `None`: they may.
/// `remembered`: the store says they did already.
pub fn forward_refusal(raw: &[u8], account: &str, remembered: bool) -> Option<String> {
    if remembered {
        return Some(format!(
            "{account}'s rules forwarded this message already (a loop)"
        ));
    }
    let chain = chain(raw);
    if chain.iter().any(|a| a.eq_ignore_ascii_case(account)) {
        return Some(format!(
            "the message came through a forward of {account} already (a loop: {})",
            chain.join(" -> ")
        ));
    }
    if chain.len() >= MAX_HOPS {
        return Some(format!(
            "the message was forwarded {} times already (at most {MAX_HOPS})",
            chain.len()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_forwarded_once_per_account() {
        let m = b"X-esmail-Loop: <JDoe@acme.com>\r\nX-esmail-Loop: asmith@acme.com\r\nSubject: x\r\n\r\nb";
        assert_eq!(chain(m), vec!["jdoe@acme.com", "asmith@acme.com"]);
        assert!(forward_refusal(m, "jdoe@acme.com", false).is_some());
        assert!(forward_refusal(m, "bob@acme.com", false).is_none());
        assert!(forward_refusal(m, "bob@acme.com", true).is_some());
        let long: String = (0..MAX_HOPS)
            .map(|i| format!("X-esmail-Loop: u{i}@acme.com\r\n"))
            .collect::<String>()
            + "\r\nbody";
        assert!(forward_refusal(long.as_bytes(), "bob@acme.com", false)
            .unwrap()
            .contains("at most"));
    }
}
