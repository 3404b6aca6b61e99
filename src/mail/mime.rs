//! The MIME structure of a message (parsed with mail-parser), and the seed's attachment
//! types: each leaf part's MIME type mapped through the store's attachment map.

use mail_parser::{Message, MimeHeaders};

/// A leaf part before it is mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafPart {
    /// Position in parse order, from 1.
    pub part_no: i64,
    /// `type/subtype`, lower case (`text/plain` when the part says nothing).
    pub mime_type: String,
    pub file_name: Option<String>,
    /// Decoded size.
    pub size: i64,
}

/// Most parts recorded for one message.
pub const MAX_PARTS: usize = 1000;

/// The leaf parts of a parsed message (containers are skipped).
pub fn leaf_parts(m: &Message<'_>) -> Vec<LeafPart> {
    m.parts
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_multipart())
        .take(MAX_PARTS)
        .map(|(i, p)| LeafPart {
            part_no: i as i64 + 1,
            mime_type: p
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_else(|| "text/plain".into())
                .to_ascii_lowercase(),
            file_name: p.attachment_name().map(|n| n.to_string()),
            size: p.len() as i64,
        })
        .collect()
}

/// Where a leaf part's body lies in the raw message, as transmitted (still encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartBody {
    /// The part's number, as [`leaf_parts`] numbers it.
    pub part_no: i64,
    /// Byte offset of the body in the raw message, from 0.
    pub offset: i64,
    pub bytes: i64,
    /// `BASE64`, `QUOTED-PRINTABLE`, or `None` when the body is as it is.
    pub encoding: Option<&'static str>,
}

/// The bodies of the leaf parts of a raw message (the bytes stored in `es_message.content`),
/// numbered as [`leaf_parts`] numbers them, so that a reader of the store (IM_API's
/// GetAttachmentData) can cut a part out and decode it without parsing MIME itself.
pub fn part_bodies(raw: &[u8]) -> Vec<PartBody> {
    let Some(m) = mail_parser::MessageParser::default().parse(raw) else {
        return Vec::new();
    };
    m.parts
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_multipart())
        .take(MAX_PARTS)
        .filter_map(|(i, p)| {
            let (start, end) = (p.offset_body as usize, p.offset_end as usize);
            (start <= end && end <= raw.len()).then(|| PartBody {
                part_no: i as i64 + 1,
                offset: start as i64,
                bytes: (end - start) as i64,
                encoding: match p.encoding {
                    mail_parser::Encoding::Base64 => Some("BASE64"),
                    mail_parser::Encoding::QuotedPrintable => Some("QUOTED-PRINTABLE"),
                    mail_parser::Encoding::None => None,
                },
            })
        })
        .collect()
}

/// The attachment type of a MIME type: the map's entry for it, else the category of its
/// top-level type when there is one (TEXT, IMAGE, AUDIO, VIDEO, APPLICATION, MESSAGE), else
/// BINARY.
pub fn attachment_type(mime_type: &str, map: &[(String, String)]) -> String {
    let t = mime_type.to_ascii_lowercase();
    if let Some((_, a)) = map.iter().find(|(m, _)| *m == t) {
        return a.clone();
    }
    let top = t.split('/').next().unwrap_or("").to_ascii_uppercase();
    match top.as_str() {
        "TEXT" | "IMAGE" | "AUDIO" | "VIDEO" | "APPLICATION" | "MESSAGE" => top,
        _ => "BINARY".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_their_attachment_types() {
        let msg = b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\nhello\r\n--X\r\nContent-Type: application/pdf; name=r.pdf\r\nContent-Disposition: attachment; filename=r.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--X\r\nContent-Type: model/x-odd\r\n\r\n?\r\n--X--\r\n";
        let m = mail_parser::MessageParser::default()
            .parse(&msg[..])
            .unwrap();
        let parts = leaf_parts(&m);
        let types: Vec<&str> = parts.iter().map(|p| p.mime_type.as_str()).collect();
        assert_eq!(types, vec!["text/plain", "application/pdf", "model/x-odd"]);
        assert_eq!(parts[1].file_name.as_deref(), Some("r.pdf"));
        let map = vec![("application/pdf".to_string(), "APPLICATION".to_string())];
        assert_eq!(attachment_type("application/pdf", &map), "APPLICATION");
        assert_eq!(attachment_type("image/x-new", &map), "IMAGE");
        assert_eq!(attachment_type("model/x-odd", &map), "BINARY");

        // the bodies, as stored: with a trace header in front the numbering is the same
        let mut stored = b"Received: from x by y; Thu, 1 Jan 2026 00:00:00 +0000\r\n".to_vec();
        stored.extend_from_slice(msg);
        let bodies = part_bodies(&stored);
        assert_eq!(
            bodies.iter().map(|b| b.part_no).collect::<Vec<_>>(),
            parts.iter().map(|p| p.part_no).collect::<Vec<_>>()
        );
        let body = |i: usize| {
            let b = &bodies[i];
            &stored[b.offset as usize..(b.offset + b.bytes) as usize]
        };
        assert_eq!(
            body(0),
            b"hello",
            "the line break before a boundary is the boundary's"
        );
        assert!(body(1).starts_with(b"JVBERi0="));
        assert_eq!(bodies[1].encoding, Some("BASE64"));
        assert_eq!(bodies[0].encoding, None);
    }
}
