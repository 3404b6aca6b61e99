//! FETCH: the data items a command asks for (macros expanded) and the rendering of one
//! message's response. Items from the snapshot (UID, FLAGS, INTERNALDATE, RFC822.SIZE,
//! MODSEQ) need no read; ENVELOPE, BODY and BODYSTRUCTURE embed the message's cached structure; body
//! sections need the content, and the message's header sections its header only.

use std::fmt::Write as _;

use imap_codec::imap_types::fetch::{
    MacroOrMessageDataItemNames, MessageDataItemName, Part, Section,
};

use super::mime::{self, Section as Which};
use super::response;
use super::selected::Msg;
use super::store::Need;
use crate::mail::structure::Structure;

/// One data item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Uid,
    Flags,
    /// RFC 7162.
    ModSeq,
    InternalDate,
    Size,
    Envelope,
    Body,
    BodyStructure,
    /// `BODY[section]<partial>`.
    Section {
        section: Option<Section<'static>>,
        partial: Option<(u32, u32)>,
    },
    Rfc822,
    Rfc822Header,
    Rfc822Text,
}

/// The items of a FETCH.
#[derive(Debug, Clone)]
pub struct Plan {
    pub items: Vec<Item>,
    /// The command sets `\Seen` (a body section without PEEK, RFC822, RFC822.TEXT).
    pub sets_seen: bool,
    /// CONDSTORE is on: the MODSEQ goes with every FLAGS (RFC 7162).
    pub modseq_with_flags: bool,
}

impl Plan {
    /// `uid`: a UID FETCH, whose responses always carry the UID.
    pub fn new(m: &MacroOrMessageDataItemNames<'static>, uid: bool) -> Result<Plan, &'static str> {
        let names: Vec<MessageDataItemName<'static>> = match m {
            MacroOrMessageDataItemNames::Macro(m) => m
                .expand()
                .into_iter()
                .map(imap_codec::imap_types::IntoStatic::into_static)
                .collect(),
            MacroOrMessageDataItemNames::MessageDataItemNames(v) => v.clone(),
        };
        let mut items = Vec::new();
        let mut sets_seen = false;
        if uid {
            items.push(Item::Uid);
        }
        for n in names {
            let item = match n {
                MessageDataItemName::Uid => Item::Uid,
                MessageDataItemName::Flags => Item::Flags,
                MessageDataItemName::ModSeq => Item::ModSeq,
                MessageDataItemName::InternalDate => Item::InternalDate,
                MessageDataItemName::Rfc822Size => Item::Size,
                MessageDataItemName::Envelope => Item::Envelope,
                MessageDataItemName::Body => Item::Body,
                MessageDataItemName::BodyStructure => Item::BodyStructure,
                MessageDataItemName::BodyExt {
                    section,
                    partial,
                    peek,
                } => {
                    sets_seen |= !peek;
                    Item::Section {
                        section,
                        partial: partial.map(|(a, b)| (a, b.get())),
                    }
                }
                MessageDataItemName::Rfc822 => {
                    sets_seen = true;
                    Item::Rfc822
                }
                MessageDataItemName::Rfc822Header => Item::Rfc822Header,
                MessageDataItemName::Rfc822Text => {
                    sets_seen = true;
                    Item::Rfc822Text
                }
                _ => return Err("this FETCH item is not supported"),
            };
            if !items.contains(&item) {
                items.push(item);
            }
        }
        Ok(Plan {
            items,
            sets_seen,
            modseq_with_flags: false,
        })
    }

    pub fn needs_structure(&self) -> bool {
        self.items
            .iter()
            .any(|i| matches!(i, Item::Envelope | Item::Body | Item::BodyStructure))
    }

    pub fn needs_content(&self) -> bool {
        self.content_need() != Need::Nothing
    }

    /// What of the content the items need: the message's own header (`BODY[HEADER]`,
    /// `BODY[HEADER.FIELDS (...)]`, `BODY[HEADER.FIELDS.NOT (...)]`, partial or not, and
    /// `RFC822.HEADER`) is read without the rest of the message.
    pub fn content_need(&self) -> Need {
        self.items
            .iter()
            .map(|i| match i {
                Item::Rfc822Header
                | Item::Section {
                    section:
                        Some(
                            Section::Header(None)
                            | Section::HeaderFields(None, _)
                            | Section::HeaderFieldsNot(None, _),
                        ),
                    ..
                } => Need::Header,
                Item::Section { .. } | Item::Rfc822 | Item::Rfc822Text => Need::Whole,
                _ => Need::Nothing,
            })
            .max()
            .unwrap_or(Need::Nothing)
    }

    pub fn has_flags(&self) -> bool {
        self.items.contains(&Item::Flags)
    }

    pub fn has_modseq(&self) -> bool {
        self.items.contains(&Item::ModSeq)
    }

    /// Writes `* seq FETCH (...)`. `flags_too` adds FLAGS (they were just changed);
    /// `structure` and `raw` are given when the plan needs them.
    pub fn render(
        &self,
        out: &mut Vec<u8>,
        seq: u32,
        m: &Msg,
        flags_too: bool,
        structure: Option<&Structure>,
        raw: Option<&[u8]>,
    ) {
        let _ = write!(Buf(out), "* {seq} FETCH (");
        let mut first = true;
        let mut sep = |out: &mut Vec<u8>| {
            if !first {
                out.push(b' ');
            }
            first = false;
        };
        let raw_or_empty = raw.unwrap_or_default();
        for item in &self.items {
            sep(out);
            match item {
                Item::Uid => {
                    let _ = write!(Buf(out), "UID {}", m.uid);
                }
                Item::Flags => {
                    let _ = write!(Buf(out), "FLAGS {}", m.flags.render(m.recent));
                }
                Item::ModSeq => {
                    let _ = write!(Buf(out), "MODSEQ ({})", m.modseq.max(1));
                }
                Item::InternalDate => {
                    let _ = write!(
                        Buf(out),
                        "INTERNALDATE {}",
                        response::date_time(&m.internal_date)
                    );
                }
                Item::Size => {
                    let _ = write!(Buf(out), "RFC822.SIZE {}", m.size.max(0));
                }
                Item::Envelope => {
                    out.extend_from_slice(b"ENVELOPE ");
                    put_structure(out, structure.map(|s| s.envelope.as_str()));
                }
                Item::Body => {
                    out.extend_from_slice(b"BODY ");
                    put_structure(out, structure.map(|s| s.body.as_str()));
                }
                Item::BodyStructure => {
                    out.extend_from_slice(b"BODYSTRUCTURE ");
                    put_structure(out, structure.map(|s| s.bodystructure.as_str()));
                }
                Item::Section { section, partial } => {
                    out.extend_from_slice(b"BODY[");
                    section_label(out, section.as_ref());
                    out.push(b']');
                    let data = section_data(raw_or_empty, section.as_ref());
                    match (data, partial) {
                        (None, Some((start, _))) => {
                            let _ = write!(Buf(out), "<{start}> NIL");
                        }
                        (None, None) => out.extend_from_slice(b" NIL"),
                        (Some(d), Some((start, len))) => {
                            let _ = write!(Buf(out), "<{start}> ");
                            data_string(out, mime::partial(&d, *start as u64, Some(*len as u64)));
                        }
                        (Some(d), None) => {
                            out.push(b' ');
                            data_string(out, &d);
                        }
                    }
                }
                Item::Rfc822 => {
                    out.extend_from_slice(b"RFC822 ");
                    data_string(out, raw_or_empty);
                }
                Item::Rfc822Header => {
                    out.extend_from_slice(b"RFC822.HEADER ");
                    let h = mime::section(raw_or_empty, &[], &Which::Header).unwrap_or_default();
                    data_string(out, &h);
                }
                Item::Rfc822Text => {
                    out.extend_from_slice(b"RFC822.TEXT ");
                    let t = mime::section(raw_or_empty, &[], &Which::Text).unwrap_or_default();
                    data_string(out, &t);
                }
            }
        }
        if flags_too && !self.has_flags() {
            sep(out);
            let _ = write!(Buf(out), "FLAGS {}", m.flags.render(m.recent));
        }
        if self.modseq_with_flags && (flags_too || self.has_flags()) && !self.has_modseq() {
            sep(out);
            let _ = write!(Buf(out), "MODSEQ ({})", m.modseq.max(1));
        }
        out.extend_from_slice(b")\r\n");
    }
}

fn put_structure(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) if !s.is_empty() => out.extend_from_slice(s.as_bytes()),
        _ => out.extend_from_slice(b"NIL"),
    }
}

/// Message data: a literal, or `""` when empty.
fn data_string(out: &mut Vec<u8>, d: &[u8]) {
    if d.is_empty() {
        out.extend_from_slice(b"\"\"");
    } else {
        response::literal(out, d);
    }
}

fn part_numbers(p: &Part) -> Vec<u32> {
    p.0.as_ref().iter().map(|n| n.get()).collect()
}

fn header_names(names: &[imap_codec::imap_types::core::AString<'_>]) -> Vec<String> {
    names
        .iter()
        .map(|n| String::from_utf8_lossy(n.as_ref()).into_owned())
        .collect()
}

/// The bytes of a section.
fn section_data(raw: &[u8], section: Option<&Section<'_>>) -> Option<Vec<u8>> {
    let opt = |p: &Option<Part>| p.as_ref().map(part_numbers).unwrap_or_default();
    match section {
        None => Some(raw.to_vec()),
        Some(Section::Part(p)) => mime::section(raw, &part_numbers(p), &Which::Full),
        Some(Section::Header(p)) => mime::section(raw, &opt(p), &Which::Header),
        Some(Section::HeaderFields(p, names)) => mime::section(
            raw,
            &opt(p),
            &Which::HeaderFields(header_names(names.as_ref())),
        ),
        Some(Section::HeaderFieldsNot(p, names)) => mime::section(
            raw,
            &opt(p),
            &Which::HeaderFieldsNot(header_names(names.as_ref())),
        ),
        Some(Section::Text(p)) => mime::section(raw, &opt(p), &Which::Text),
        Some(Section::Mime(p)) => mime::section(raw, &part_numbers(p), &Which::Mime),
    }
}

/// The section as the response names it: `1.2.HEADER.FIELDS (From To)`.
pub fn section_label(out: &mut Vec<u8>, section: Option<&Section<'_>>) {
    let part = |out: &mut Vec<u8>, p: &Part, dot: bool| {
        let s: Vec<String> = p.0.as_ref().iter().map(|n| n.to_string()).collect();
        out.extend_from_slice(s.join(".").as_bytes());
        if dot {
            out.push(b'.');
        }
    };
    let opt = |out: &mut Vec<u8>, p: &Option<Part>| {
        if let Some(p) = p {
            part(out, p, true)
        }
    };
    let names = |out: &mut Vec<u8>, names: &[imap_codec::imap_types::core::AString<'_>]| {
        out.extend_from_slice(b" (");
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            response::astring(out, n.as_ref());
        }
        out.push(b')');
    };
    match section {
        None => {}
        Some(Section::Part(p)) => part(out, p, false),
        Some(Section::Header(p)) => {
            opt(out, p);
            out.extend_from_slice(b"HEADER");
        }
        Some(Section::HeaderFields(p, n)) => {
            opt(out, p);
            out.extend_from_slice(b"HEADER.FIELDS");
            names(out, n.as_ref());
        }
        Some(Section::HeaderFieldsNot(p, n)) => {
            opt(out, p);
            out.extend_from_slice(b"HEADER.FIELDS.NOT");
            names(out, n.as_ref());
        }
        Some(Section::Text(p)) => {
            opt(out, p);
            out.extend_from_slice(b"TEXT");
        }
        Some(Section::Mime(p)) => {
            part(out, p, true);
            out.extend_from_slice(b"MIME");
        }
    }
}

struct Buf<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sps::imap::flags::Flags;
    use chrono::{TimeZone, Utc};
    use imap_codec::imap_types::fetch::Macro;

    fn msg() -> Msg {
        Msg {
            uid: 42,
            message_id: 1,
            flags: Flags::parse("\\Seen"),
            modseq: 1,
            internal_date: Utc.with_ymd_and_hms(2026, 2, 1, 10, 0, 0).unwrap(),
            size: 123,
            recent: true,
            expunged: false,
        }
    }

    #[test]
    fn macros_and_snapshot_items() {
        let p = Plan::new(&MacroOrMessageDataItemNames::Macro(Macro::Fast), true).unwrap();
        assert!(!p.needs_content() && !p.needs_structure() && !p.sets_seen);
        let mut out = Vec::new();
        p.render(&mut out, 3, &msg(), false, None, None);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "* 3 FETCH (UID 42 FLAGS (\\Seen \\Recent) INTERNALDATE \" 1-Feb-2026 10:00:00 +0000\" RFC822.SIZE 123)\r\n"
        );
        let p = Plan::new(&MacroOrMessageDataItemNames::Macro(Macro::Full), false).unwrap();
        assert!(p.needs_structure() && !p.needs_content());
    }

    #[test]
    fn header_sections_need_the_header_only() {
        let need = |items: &str| {
            let d = crate::sps::imap::parse::command(format!("a FETCH 1 {items}\r\n").as_bytes())
                .unwrap();
            let imap_codec::imap_types::command::CommandBody::Fetch {
                macro_or_item_names,
                ..
            } = d.command.body
            else {
                panic!("{items}");
            };
            Plan::new(&macro_or_item_names, false)
                .unwrap()
                .content_need()
        };
        assert_eq!(need("(UID FLAGS ENVELOPE BODYSTRUCTURE)"), Need::Nothing);
        assert_eq!(need("FULL"), Need::Nothing);
        assert_eq!(
            need("(ENVELOPE BODY.PEEK[HEADER.FIELDS (FROM TO)])"),
            Need::Header
        );
        assert_eq!(
            need("(BODY[HEADER.FIELDS.NOT (RECEIVED)]<0.100>)"),
            Need::Header
        );
        assert_eq!(need("(BODY.PEEK[HEADER] RFC822.HEADER)"), Need::Header);
        assert_eq!(need("(BODY.PEEK[1.HEADER])"), Need::Whole);
        assert_eq!(need("(BODY.PEEK[2.HEADER.FIELDS (FROM)])"), Need::Whole);
        assert_eq!(need("(RFC822.HEADER BODY.PEEK[TEXT])"), Need::Whole);
        assert_eq!(need("(BODY.PEEK[])"), Need::Whole);
        assert_eq!(need("(BODY[1.MIME])"), Need::Whole);
        assert_eq!(need("RFC822"), Need::Whole);
        assert_eq!(need("(RFC822.TEXT)"), Need::Whole);
    }

    #[test]
    fn modseq_item_and_modseq_with_flags() {
        use imap_codec::imap_types::fetch::MessageDataItemName as N;
        let names = |v: Vec<N<'static>>| MacroOrMessageDataItemNames::MessageDataItemNames(v);
        let render = |p: &Plan, flags_too| {
            let mut out = Vec::new();
            p.render(&mut out, 1, &msg(), flags_too, None, None);
            String::from_utf8(out).unwrap()
        };
        let p = Plan::new(&names(vec![N::ModSeq]), false).unwrap();
        assert!(p.has_modseq() && !p.has_flags());
        assert_eq!(render(&p, false), "* 1 FETCH (MODSEQ (1))\r\n");
        // CONDSTORE on: the MODSEQ goes with the FLAGS, asked for or set by the FETCH
        let mut p = Plan::new(&names(vec![N::Rfc822Size]), true).unwrap();
        p.modseq_with_flags = true;
        assert_eq!(render(&p, false), "* 1 FETCH (UID 42 RFC822.SIZE 123)\r\n");
        assert_eq!(
            render(&p, true),
            "* 1 FETCH (UID 42 RFC822.SIZE 123 FLAGS (\\Seen \\Recent) MODSEQ (1))\r\n"
        );
        let mut p = Plan::new(&names(vec![N::Flags, N::ModSeq]), false).unwrap();
        p.modseq_with_flags = true;
        assert_eq!(
            render(&p, false),
            "* 1 FETCH (FLAGS (\\Seen \\Recent) MODSEQ (1))\r\n"
        );
    }

    #[test]
    fn section_labels() {
        let label = |s: Option<Section<'static>>| {
            let mut out = Vec::new();
            section_label(&mut out, s.as_ref());
            String::from_utf8(out).unwrap()
        };
        let part = |v: Vec<u32>| {
            Part(
                v.into_iter()
                    .map(|n| std::num::NonZeroU32::new(n).unwrap())
                    .collect::<Vec<_>>()
                    .try_into()
                    .unwrap(),
            )
        };
        assert_eq!(label(None), "");
        assert_eq!(label(Some(Section::Part(part(vec![1, 2])))), "1.2");
        assert_eq!(label(Some(Section::Header(None))), "HEADER");
        assert_eq!(label(Some(Section::Text(Some(part(vec![2]))))), "2.TEXT");
        assert_eq!(label(Some(Section::Mime(part(vec![3])))), "3.MIME");
        assert_eq!(
            label(Some(Section::HeaderFields(
                None,
                vec!["From".try_into().unwrap(), "X Y".try_into().unwrap()]
                    .try_into()
                    .unwrap()
            ))),
            "HEADER.FIELDS (From \"X Y\")"
        );
    }
}
