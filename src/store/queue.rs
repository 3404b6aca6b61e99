//! The message queues: a message stored once, and entries that say where it goes next
//! (Submission, Rerouting, Dead Message, Remote, Collector, Gateway), each with its recipients.

use chrono::{DateTime, Utc};

use super::{q, Conn, StoreError};
use crate::binds;

/// The queues of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Submission,
    Rerouting,
    Dead,
    Remote,
    Collector,
    Gateway,
}

impl Queue {
    pub fn stored(self) -> &'static str {
        match self {
            Queue::Submission => "SUBMISSION",
            Queue::Rerouting => "REROUTING",
            Queue::Dead => "DEAD",
            Queue::Remote => "REMOTE",
            Queue::Collector => "COLLECTOR",
            Queue::Gateway => "GATEWAY",
        }
    }
}

/// A message's content and what is known of it when it arrives.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub guid: &'a str,
    pub origin_node_id: i64,
    /// Byte-exact, as received (with the Received header added in front).
    pub content: &'a [u8],
    pub sha256: &'a str,
    pub rfc822_msgid: Option<&'a str>,
    pub received_at: DateTime<Utc>,
    /// Its IMAP structure ([`crate::mail::structure::Structure`] as JSON), when known; the
    /// first FETCH computes it otherwise.
    pub structure: Option<&'a str>,
}

/// Where a message goes: its envelope.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub guid: &'a str,
    pub queue: Queue,
    pub node_id: i64,
    pub target_node_id: Option<i64>,
    pub gateway_name: Option<&'a str>,
    /// The envelope sender; `None` for the null sender `<>` (reports, auto-replies).
    pub sender: Option<&'a str>,
    pub submitted_by: Option<i64>,
    pub priority: i64,
    /// Delayed delivery: not before this time.
    pub not_before: Option<DateTime<Utc>>,
    pub recipients: &'a [String],
}

/// Stores a message's content once; returns its id.
pub fn insert_message(c: &mut Conn, m: &NewMessage<'_>) -> Result<i64, StoreError> {
    let id = c.insert_returning(
        &q::MESSAGE_INSERT,
        &binds![
            "guid" => m.guid, "origin_node_id" => m.origin_node_id,
            "size_bytes" => m.content.len() as i64, "sha256" => m.sha256,
            "rfc822_msgid" => m.rfc822_msgid.map(|s| s.chars().take(998).collect::<String>()),
            "received_at" => m.received_at, "content" => m.content.to_vec(),
        ],
        "message_id",
    )?;
    if let Some(s) = m.structure {
        super::mailbox::set_structure(c, id, s)?;
    }
    Ok(id)
}

/// Queues a stored message for its recipients; returns the entry's id.
pub fn insert_entry(
    c: &mut Conn,
    message_id: i64,
    e: &NewEntry<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = c.insert_returning(
        &q::QUEUE_ENTRY_INSERT,
        &binds![
            "guid" => e.guid, "queue_name" => e.queue.stored(), "node_id" => e.node_id,
            "target_node_id" => e.target_node_id, "gateway_name" => e.gateway_name.map(str::to_string),
            "message_id" => message_id, "sender_address" => e.sender.map(str::to_string),
            "submitted_by" => e.submitted_by, "priority" => e.priority,
            "next_attempt_at" => e.not_before.unwrap_or(now).max(now), "not_before" => e.not_before,
            "created_at" => now,
        ],
        "entry_id",
    )?;
    for (i, r) in e.recipients.iter().enumerate() {
        c.execute(
            &q::QUEUE_RECIPIENT_INSERT,
            &binds!["entry_id" => id, "rcpt_pos" => i as i64 + 1, "address" => r],
        )?;
    }
    Ok(id)
}

/// One leaf MIME part of a message, as recorded at arrival.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub part_no: i64,
    pub mime_type: String,
    pub attachment_type: String,
    pub file_name: Option<String>,
    pub size: i64,
}

/// The MIME attachment map: (MIME type, attachment type).
pub fn mime_map(c: &mut Conn) -> Result<Vec<(String, String)>, StoreError> {
    c.query(&q::MIME_MAP_LIST, &[])?
        .iter()
        .map(|r| Ok((r.str(0)?.to_ascii_lowercase(), r.str(1)?)))
        .collect()
}

/// Records a message's parts (in the transaction that stores the message).
pub fn insert_parts(c: &mut Conn, message_id: i64, parts: &[Part]) -> Result<(), StoreError> {
    for p in parts {
        c.execute(
            &q::MESSAGE_PART_INSERT,
            &binds![
                "message_id" => message_id, "part_no" => p.part_no,
                "mime_type" => p.mime_type.chars().take(255).collect::<String>(),
                "attachment_type" => &p.attachment_type,
                "file_name" => p.file_name.as_ref().map(|f| f.chars().take(255).collect::<String>()),
                "size_bytes" => p.size,
            ],
        )?;
    }
    Ok(())
}

/// Records where the leaf parts' bodies lie in the stored content (schema step 7), for the
/// readers that cut a part out of it (IM_API). In the transaction that stores the message.
pub fn set_part_bodies(
    c: &mut Conn,
    message_id: i64,
    bodies: &[crate::mail::mime::PartBody],
) -> Result<(), StoreError> {
    for b in bodies {
        c.execute(
            &q::MESSAGE_PART_BODY,
            &binds![
                "body_offset" => b.offset, "body_bytes" => b.bytes,
                "transfer_encoding" => b.encoding,
                "message_id" => message_id, "part_no" => b.part_no,
            ],
        )?;
    }
    Ok(())
}
