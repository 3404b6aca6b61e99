//! Automatic messages (RFC 3834): what is one, so that nothing automatic answers it. A
//! non-delivery report is never sent about one, and a server-side rule never replies to one.

use mail_parser::{MessageParser, MimeHeaders};

/// Why a message gets no report: it is automatic (`Auto-Submitted` other than `no`) or a
/// report (`multipart/report`).
pub fn automatic(content: &[u8]) -> Option<String> {
    let m = MessageParser::default().parse_headers(content)?;
    if let Some(v) = m.header_raw("Auto-Submitted") {
        let v = v.trim();
        let keyword = v
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !keyword.is_empty() && keyword != "no" {
            return Some(format!("the message is automatic (Auto-Submitted: {v})"));
        }
    }
    if let Some(ct) = m.content_type() {
        if ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        {
            return Some("the message is a report (multipart/report)".into());
        }
    }
    None
}

/// Why a message gets no automatic reply (RFC 3834, section 2): it is automatic, or it comes
/// from a mailing list or bulk mail (`Precedence: bulk | list | junk`, a `List-*` field), or
/// from a sender that is a mail system or a list robot (`MAILER-DAEMON`, `owner-*`,
/// `*-request`, `LISTSERV`, `majordomo`). `None`: a reply may go.
pub fn no_reply(content: &[u8], sender: &str) -> Option<String> {
    if let Some(why) = automatic(content) {
        return Some(why);
    }
    let m = MessageParser::default().parse_headers(content)?;
    if let Some(v) = m.header_raw("Precedence") {
        let p = v.trim().to_ascii_lowercase();
        if ["bulk", "list", "junk"].contains(&p.as_str()) {
            return Some(format!(
                "the message is bulk mail (Precedence: {})",
                v.trim()
            ));
        }
    }
    for list in ["List-Id", "List-Post", "List-Unsubscribe", "List-Help"] {
        if m.header_raw(list).is_some() {
            return Some(format!("the message comes from a mailing list ({list})"));
        }
    }
    let local = sender
        .rsplit_once('@')
        .map(|(l, _)| l)
        .unwrap_or(sender)
        .to_ascii_lowercase();
    if local == "mailer-daemon"
        || local == "listserv"
        || local == "majordomo"
        || local.starts_with("owner-")
        || local.ends_with("-request")
    {
        return Some(format!(
            "the sender {sender} is a mail system or a list robot"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &[u8] = b"From: a@acme.com\r\nSubject: hello\r\n\r\nbody\r\n";

    #[test]
    fn ordinary_messages_are_not_automatic() {
        assert_eq!(automatic(PLAIN), None);
        assert_eq!(
            automatic(b"Auto-Submitted: no\r\nSubject: x\r\n\r\nb"),
            None
        );
        assert!(automatic(b"Auto-Submitted: auto-generated\r\n\r\nb").is_some());
        assert!(automatic(
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x--\r\n"
        )
        .is_some());
    }

    #[test]
    fn lists_bulk_and_robots_get_no_reply() {
        assert_eq!(no_reply(PLAIN, "a@acme.com"), None);
        assert!(no_reply(b"Precedence: bulk\r\n\r\nb", "a@acme.com").is_some());
        assert!(no_reply(b"Precedence: List\r\n\r\nb", "a@acme.com").is_some());
        assert!(no_reply(b"List-Id: <x.example>\r\n\r\nb", "a@acme.com").is_some());
        assert!(no_reply(b"Auto-Submitted: auto-replied\r\n\r\nb", "a@acme.com").is_some());
        assert!(no_reply(PLAIN, "MAILER-DAEMON@acme.com").is_some());
        assert!(no_reply(PLAIN, "owner-list@acme.com").is_some());
        assert!(no_reply(PLAIN, "list-request@acme.com").is_some());
    }
}
