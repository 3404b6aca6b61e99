//! Fuzz targets: each takes arbitrary bytes and runs one of the parsers that read what a
//! client or a message can contain, the way the servers run them, without I/O or store. They
//! must never panic, and allocate in proportion to their input. `tests/fuzz.rs` runs them over
//! the committed corpus (`tests/fuzz/corpus/<target>/`) and over random mutations of it;
//! `tools/fuzz` runs them at length.

use crate::gateway::smtp::session::{self as smtp, Input, Next, Session, SessionConfig};
use crate::mail::intake::{RcptVerdict, SenderVerdict};
use crate::mail::structure::{self, Section};

/// The targets, by name (the corpus folders).
pub const TARGETS: &[&str] = &["imap", "pop3", "smtp", "message", "iofcmgr"];

/// Runs the target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "imap" => imap(data),
        "pop3" => pop3(data),
        "smtp" => smtp(data),
        "message" => message(data),
        "iofcmgr" => iofcmgr(data),
        _ => {}
    }
}

/// The IMAP input path, whole and in small reads (a slow client).
pub fn imap(data: &[u8]) {
    crate::sps::imap::fuzz::input(data, data.len().max(1));
    crate::sps::imap::fuzz::input(data, 7);
}

/// POP3 command lines and SASL responses.
pub fn pop3(data: &[u8]) {
    use crate::sps::pop3::command;
    for line in data.split_inclusive(|b| *b == b'\n') {
        let _ = command::parse(line);
        let _ = command::parse_sasl_response(line);
        let _ = command::loggable(line, false);
    }
}

/// SMTP command lines through the session state machine; every check it asks for is
/// answered (accepted, or the store unavailable, by turns) so that all states are reached.
pub fn smtp(data: &[u8]) {
    let mut s = Session::new(SessionConfig {
        hostname: "mx.example.com".into(),
        max_message_bytes: 1 << 20,
        max_recipients: 10,
        max_errors: 1000,
        tls_available: true,
        auth_without_tls: true,
    });
    let mut turn = 0u32;
    for line in data.split_inclusive(|b| *b == b'\n') {
        let _ = smtp::parse(line);
        let mut step = s.command(Input::Line(line));
        // follow the checks the line led to
        for _ in 0..4 {
            turn += 1;
            let ok = turn % 3 != 0;
            step = match step.next {
                Next::CheckSender(_) => s.sender_checked(if ok {
                    Ok(SenderVerdict::Accepted)
                } else {
                    Err(smtp::Unavailable)
                }),
                Next::CheckRecipient { rcpt, .. } => {
                    let _ = rcpt;
                    s.recipient_checked(
                        None,
                        if ok {
                            Ok(RcptVerdict::Remote)
                        } else {
                            Err(smtp::Unavailable)
                        },
                    )
                }
                Next::ReadData => s.data_finished(smtp::DataResult::TooBig),
                Next::StartTls => {
                    s.tls_started();
                    break;
                }
                Next::Authenticate { .. } => s.auth_checked(Err(smtp::Unavailable)),
                Next::Read | Next::Close => break,
            };
        }
        if s.is_closed() {
            break;
        }
    }
}

/// A stored message: its IMAP structure, sections, and the SEARCH helpers.
pub fn message(data: &[u8]) {
    let st = structure::Structure::of(data);
    let _ = structure::Structure::from_json(&st.to_json());
    for part in [&[][..], &[1], &[1, 1], &[2], &[1, 2, 1]] {
        for which in [
            Section::Full,
            Section::Header,
            Section::Text,
            Section::Mime,
            Section::HeaderFields(vec!["subject".into(), "from".into()]),
            Section::HeaderFieldsNot(vec!["received".into()]),
        ] {
            if let Some(b) = structure::section(data, part, &which) {
                let _ = structure::partial(&b, 3, Some(10));
            }
        }
    }
    let _ = structure::header_values(data, "subject");
    let _ = structure::headers_contain(data, "from", "a");
    let _ = structure::body_contains(data, "needle");
    let _ = structure::sent_date(data);
    let _ = crate::mail::intake::inspect(data);
}

/// An IOFCMGR script: split into statements and tokenized (not run).
pub fn iofcmgr(data: &[u8]) {
    use crate::admin::script::{tokenize, Splitter};
    let text = String::from_utf8_lossy(data);
    let mut sp = Splitter::new();
    for line in text.lines() {
        if let Ok(statements) = sp.feed_line(line) {
            for raw in statements {
                let _ = tokenize(&raw);
            }
        }
    }
}
