//! The selected mailbox as a session sees it: a snapshot of its messages in sequence order
//! (UID, content id, flags, MODSEQ, INTERNALDATE, size, `\Recent`), and how changes read from
//! the store are applied to it and announced (`EXPUNGE`, or `VANISHED` after ENABLE QRESYNC,
//! `EXISTS`, `RECENT`, `FETCH FLAGS` with the MODSEQ after CONDSTORE, and `FLAGS` when new
//! keywords appear). Expunges are held back while a command may not announce them (RFC 3501,
//! 7.4.1): such messages stay in the snapshot, marked expunged. The SEARCHRES result
//! (RFC 5182) is kept here too, as UIDs.

use chrono::{DateTime, Utc};

use super::flags::{self, Flags};
use super::response;
use super::sequence::{self, OutOfRange, Ranges};
use crate::store::mailbox::{Folder, MessageRow};

/// What the client enabled (RFC 5161 ENABLE, or implicitly: RFC 7162, 3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enabled {
    /// MODSEQ in every FETCH with FLAGS, HIGHESTMODSEQ on SELECT.
    pub condstore: bool,
    /// VANISHED instead of EXPUNGE, UID in unsolicited FETCH, SELECT (QRESYNC ...).
    pub qresync: bool,
}

/// One message of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub uid: u32,
    pub message_id: i64,
    pub flags: Flags,
    pub modseq: i64,
    pub internal_date: DateTime<Utc>,
    pub size: i64,
    pub recent: bool,
    /// Gone from the store, not yet announced.
    pub expunged: bool,
}

impl Msg {
    pub fn from_row(r: &MessageRow, recent: bool) -> Option<Msg> {
        Some(Msg {
            uid: u32::try_from(r.uid).ok().filter(|u| *u > 0)?,
            message_id: r.message_id,
            flags: Flags::parse(&r.flags),
            modseq: r.modseq,
            internal_date: r.internal_date,
            size: r.size,
            recent,
            expunged: false,
        })
    }
}

/// What changed in the store since the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    /// The folder's MODSEQ when this was read.
    pub highest_modseq: i64,
    /// The folder's next UID when this was read.
    pub next_uid: i64,
    /// New messages and messages whose flags changed.
    pub changed: Vec<MessageRow>,
    /// UIDs expunged, with the MODSEQ of their expunge.
    pub expunged: Vec<(i64, i64)>,
    /// New messages from this UID on are `\Recent` for this session.
    pub recent_from: i64,
    /// The folder was deleted.
    pub gone: bool,
}

/// The selected mailbox.
#[derive(Debug, Clone)]
pub struct Selected {
    pub folder_id: i64,
    pub name: String,
    pub uidvalidity: u32,
    pub read_only: bool,
    /// In UID order, which is sequence order.
    pub msgs: Vec<Msg>,
    /// The folder's MODSEQ the snapshot reflects.
    pub modseq: i64,
    pub next_uid: i64,
    /// Keywords announced in FLAGS.
    pub keywords: Vec<String>,
    /// The folder was deleted by another session.
    pub gone: bool,
    /// The `\Recent` count last announced.
    pub recent_reported: u32,
    /// The lowest MODSEQ of the expunges held back.
    pub held_modseq: Option<i64>,
    /// The result SEARCH saved (RFC 5182), as UIDs in ascending order.
    pub saved: Vec<u32>,
}

impl Selected {
    /// The snapshot of a folder just selected; messages from `first_recent` on are
    /// `\Recent`.
    pub fn new(
        folder: &Folder,
        name: String,
        read_only: bool,
        rows: &[MessageRow],
        first_recent: i64,
    ) -> Selected {
        let msgs: Vec<Msg> = rows
            .iter()
            .filter_map(|r| Msg::from_row(r, r.uid >= first_recent))
            .collect();
        let mut s = Selected {
            folder_id: folder.folder_id,
            name,
            uidvalidity: u32::try_from(folder.uidvalidity).unwrap_or(u32::MAX).max(1),
            read_only,
            msgs,
            modseq: folder.highest_modseq,
            next_uid: folder.next_uid,
            keywords: Vec::new(),
            gone: false,
            recent_reported: 0,
            held_modseq: None,
            saved: Vec::new(),
        };
        s.keywords = s.keywords_in_use();
        s.recent_reported = s.recent();
        s
    }

    fn keywords_in_use(&self) -> Vec<String> {
        let mut kw: Vec<String> = Vec::new();
        for m in &self.msgs {
            for k in m.flags.keywords() {
                if !kw.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                    kw.push(k.to_string());
                }
            }
        }
        kw
    }

    pub fn count(&self) -> u32 {
        self.msgs.len().min(u32::MAX as usize) as u32
    }

    pub fn recent(&self) -> u32 {
        self.msgs.iter().filter(|m| m.recent).count() as u32
    }

    pub fn max_uid(&self) -> u32 {
        self.msgs.last().map(|m| m.uid).unwrap_or(0)
    }

    /// The index of a UID.
    pub fn index_of(&self, uid: u32) -> Option<usize> {
        self.msgs.binary_search_by_key(&uid, |m| m.uid).ok()
    }

    /// The sequence number of the first message without `\Seen`.
    pub fn first_unseen(&self) -> Option<u32> {
        self.msgs
            .iter()
            .position(|m| !m.flags.has(flags::SEEN))
            .map(|i| i as u32 + 1)
    }

    /// The messages a command names, as indexes in ascending order: by sequence numbers
    /// (a number beyond the mailbox is an error) or by UIDs (those not in the mailbox are
    /// ignored).
    pub fn targets(
        &self,
        set: &imap_codec::imap_types::sequence::SequenceSet,
        uid: bool,
    ) -> Result<Vec<usize>, OutOfRange> {
        if uid {
            let r = Ranges::new(set, self.max_uid());
            Ok(self
                .msgs
                .iter()
                .enumerate()
                .filter(|(_, m)| r.contains(m.uid))
                .map(|(i, _)| i)
                .collect())
        } else {
            Ok(sequence::seqs(set, self.count())?
                .into_iter()
                .map(|s| s as usize - 1)
                .collect())
        }
    }

    /// The saved search result (`$`) as a set: UIDs (`uid`) or sequence numbers, of the
    /// messages still in the snapshot; empty when none.
    pub fn saved_set(&self, uid: bool) -> String {
        let nums: Vec<u32> = self
            .saved
            .iter()
            .filter_map(|&u| self.index_of(u).map(|i| if uid { u } else { i as u32 + 1 }))
            .collect();
        response::number_set(&nums)
    }

    /// `* n FETCH (FLAGS ...)` for a flag change the client did not ask for, with the UID
    /// after ENABLE QRESYNC and the MODSEQ after CONDSTORE.
    pub fn flags_line(&self, i: usize, en: Enabled) -> String {
        let m = &self.msgs[i];
        let mut s = format!("{} FETCH (", i + 1);
        if en.qresync {
            s.push_str(&format!("UID {} ", m.uid));
        }
        s.push_str(&format!("FLAGS {}", m.flags.render(m.recent)));
        if en.condstore {
            s.push_str(&format!(" MODSEQ ({})", m.modseq));
        }
        s.push(')');
        s
    }

    /// Announces keywords not yet in FLAGS.
    pub fn announce_keywords<'a>(
        &mut self,
        flags: impl IntoIterator<Item = &'a Flags>,
        out: &mut Vec<u8>,
    ) {
        let mut new = false;
        for f in flags {
            for k in f.keywords() {
                if !self.keywords.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                    self.keywords.push(k.to_string());
                    new = true;
                }
            }
        }
        if new {
            self.write_flags(out);
        }
    }

    /// `* FLAGS (...)` and `* OK [PERMANENTFLAGS (...)]`.
    pub fn write_flags(&self, out: &mut Vec<u8>) {
        let all = flags::mailbox_flags(&self.keywords);
        response::line(out, &format!("FLAGS {all}"));
        let perm = if self.read_only {
            "()".to_string()
        } else {
            let mut p = all.trim_end_matches(')').to_string();
            p.push_str(" \\*)");
            p
        };
        response::untagged_status(
            out,
            response::Kind::Ok,
            Some(&format!("PERMANENTFLAGS {perm}")),
            if self.read_only {
                "No permanent flags permitted"
            } else {
                "Flags permitted"
            },
        );
    }

    /// Applies changes read from the store and writes what the client must hear. With
    /// `expunge` false, expunged messages stay (marked) until a later call may announce them;
    /// meanwhile a CONDSTORE client is told a HIGHESTMODSEQ below theirs (RFC 7162, 3.2), so
    /// that the MODSEQs it sees do not make it skip them when it resynchronizes.
    pub fn apply(&mut self, d: Delta, expunge: bool, en: Enabled, out: &mut Vec<u8>) {
        if d.gone {
            self.gone = true;
            for m in &mut self.msgs {
                m.expunged = true;
            }
        }
        for &(uid, modseq) in &d.expunged {
            if let Some(i) = u32::try_from(uid).ok().and_then(|u| self.index_of(u)) {
                if !self.msgs[i].expunged {
                    self.msgs[i].expunged = true;
                    self.held_modseq = Some(self.held_modseq.map_or(modseq, |h| h.min(modseq)));
                }
            }
        }
        if expunge {
            self.drop_expunged(en, out);
        }
        let before = self.msgs.len();
        let mut flag_changes: Vec<u32> = Vec::new();
        for r in &d.changed {
            let Ok(uid) = u32::try_from(r.uid) else {
                continue;
            };
            match self.index_of(uid) {
                Some(i) => {
                    let m = &mut self.msgs[i];
                    m.modseq = m.modseq.max(r.modseq);
                    let f = Flags::parse(&r.flags);
                    if f != m.flags && !m.expunged {
                        m.flags = f;
                        flag_changes.push(uid);
                    }
                }
                None if uid > self.max_uid() => {
                    if let Some(m) = Msg::from_row(r, r.uid >= d.recent_from) {
                        self.msgs.push(m);
                    }
                }
                None => log::debug!("uid {uid} appeared below the highest uid: ignored"),
            }
        }
        let added: Vec<usize> = (before..self.msgs.len()).collect();
        let touched: Vec<Flags> = flag_changes
            .iter()
            .filter_map(|u| self.index_of(*u))
            .chain(added.iter().copied())
            .map(|i| self.msgs[i].flags.clone())
            .collect();
        self.announce_keywords(touched.iter(), out);
        if !added.is_empty() {
            response::line(out, &format!("{} EXISTS", self.msgs.len()));
        }
        self.report_recent(!added.is_empty(), out);
        for uid in flag_changes {
            if let Some(i) = self.index_of(uid) {
                response::line(out, &self.flags_line(i, en));
            }
        }
        self.modseq = self.modseq.max(d.highest_modseq);
        self.next_uid = self.next_uid.max(d.next_uid);
        if let (false, true, Some(held)) = (expunge, en.condstore, self.held_modseq) {
            let below = (held - 1).max(1);
            response::untagged_status(
                out,
                response::Kind::Ok,
                Some(&format!("HIGHESTMODSEQ {below}")),
                "Expunges pending",
            );
        }
    }

    /// `* n RECENT` when the count changed (or `always`).
    fn report_recent(&mut self, always: bool, out: &mut Vec<u8>) {
        let r = self.recent();
        if always || r != self.recent_reported {
            response::line(out, &format!("{r} RECENT"));
            self.recent_reported = r;
        }
    }

    /// Announces and drops the messages marked expunged (and the new `\Recent` count when
    /// recent messages went).
    pub fn announce_expunges(&mut self, en: Enabled, out: &mut Vec<u8>) {
        self.drop_expunged(en, out);
        self.report_recent(false, out);
    }

    /// `* n EXPUNGE` for each message marked expunged, or one `* VANISHED uids` after ENABLE
    /// QRESYNC (RFC 7162).
    fn drop_expunged(&mut self, en: Enabled, out: &mut Vec<u8>) {
        self.held_modseq = None;
        if !self.msgs.iter().any(|m| m.expunged) {
            return;
        }
        let mut kept = Vec::with_capacity(self.msgs.len());
        let mut vanished = Vec::new();
        for m in std::mem::take(&mut self.msgs) {
            if !m.expunged {
                kept.push(m);
            } else if en.qresync {
                vanished.push(m.uid);
            } else {
                response::line(out, &format!("{} EXPUNGE", kept.len() + 1));
            }
        }
        if !vanished.is_empty() {
            response::line(
                out,
                &format!("VANISHED {}", response::number_set(&vanished)),
            );
        }
        self.msgs = kept;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(uid: i64, flags: &str, modseq: i64) -> MessageRow {
        MessageRow {
            uid,
            message_id: uid * 10,
            flags: flags.into(),
            modseq,
            internal_date: Utc::now(),
            size: 10,
        }
    }

    fn text(out: &[u8]) -> String {
        String::from_utf8(out.to_vec()).unwrap()
    }

    fn mailbox() -> Selected {
        let rows = vec![
            row(1, "", 1),
            row(2, "\\Seen", 2),
            row(4, "", 3),
            row(5, "", 4),
        ];
        let f = Folder {
            folder_id: 1,
            path: "INBOX".into(),
            special_use: None,
            uidvalidity: 99,
            next_uid: 6,
            highest_modseq: 4,
            message_count: 4,
            recent_uid: 5,
        };
        Selected::new(&f, "INBOX".into(), false, &rows, 5)
    }

    #[test]
    fn snapshot() {
        let s = mailbox();
        assert_eq!(s.count(), 4);
        assert_eq!(s.recent(), 1);
        assert_eq!(s.first_unseen(), Some(1));
        assert_eq!(s.index_of(4), Some(2));
        assert_eq!(s.index_of(3), None);
        let set = "2:4".parse().unwrap();
        assert_eq!(s.targets(&set, false).unwrap(), vec![1, 2, 3]);
        assert_eq!(s.targets(&set, true).unwrap(), vec![1, 2]);
        let set = "5".parse().unwrap();
        assert!(s.targets(&set, false).is_err());
        assert_eq!(s.targets(&"9:*".parse().unwrap(), true).unwrap(), vec![3]);
    }

    #[test]
    fn expunges_are_renumbered() {
        let mut s = mailbox();
        let mut out = Vec::new();
        let d = Delta {
            highest_modseq: 6,
            next_uid: 7,
            changed: vec![row(4, "\\Flagged $new", 6), row(6, "", 5)],
            expunged: vec![(1, 6), (2, 6), (3, 6)],
            recent_from: 6,
            gone: false,
        };
        s.apply(d, true, Enabled::default(), &mut out);
        assert_eq!(
            text(&out),
            "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n\
             * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $new)\r\n\
             * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $new \\*)] Flags permitted\r\n\
             * 3 EXISTS\r\n* 2 RECENT\r\n* 1 FETCH (FLAGS (\\Flagged $new))\r\n"
        );
        assert_eq!(
            s.msgs.iter().map(|m| m.uid).collect::<Vec<_>>(),
            vec![4, 5, 6]
        );
        assert_eq!(s.modseq, 6);
    }

    #[test]
    fn expunges_wait_during_fetch() {
        let mut s = mailbox();
        let mut out = Vec::new();
        let d = Delta {
            highest_modseq: 5,
            next_uid: 7,
            changed: vec![row(6, "", 5)],
            expunged: vec![(2, 5)],
            recent_from: 100,
            ..Default::default()
        };
        s.apply(d, false, Enabled::default(), &mut out);
        assert_eq!(text(&out), "* 5 EXISTS\r\n* 1 RECENT\r\n");
        assert!(s.msgs[1].expunged);
        out.clear();
        s.apply(Delta::default(), true, Enabled::default(), &mut out);
        assert_eq!(text(&out), "* 2 EXPUNGE\r\n");
        assert_eq!(s.count(), 4);
    }

    #[test]
    fn recent_count_follows_expunges() {
        let mut s = mailbox();
        let mut out = Vec::new();
        let d = Delta {
            highest_modseq: 5,
            next_uid: 6,
            expunged: vec![(5, 5)],
            ..Default::default()
        };
        s.apply(d, true, Enabled::default(), &mut out);
        assert_eq!(text(&out), "* 4 EXPUNGE\r\n* 0 RECENT\r\n");
    }

    #[test]
    fn condstore_and_qresync_announcements() {
        let both = Enabled {
            condstore: true,
            qresync: true,
        };
        let mut s = mailbox();
        let mut out = Vec::new();
        let d = Delta {
            highest_modseq: 8,
            next_uid: 6,
            changed: vec![row(4, "\\Seen", 8)],
            expunged: vec![(1, 7), (2, 7)],
            ..Default::default()
        };
        // during a FETCH: the flag change, and a HIGHESTMODSEQ below the held expunges
        s.apply(d, false, both, &mut out);
        assert_eq!(
            text(&out),
            "* 3 FETCH (UID 4 FLAGS (\\Seen) MODSEQ (8))\r\n\
             * OK [HIGHESTMODSEQ 6] Expunges pending\r\n"
        );
        assert_eq!(s.held_modseq, Some(7));
        out.clear();
        // then: VANISHED rather than EXPUNGE
        s.announce_expunges(both, &mut out);
        assert_eq!(text(&out), "* VANISHED 1:2\r\n");
        assert_eq!(s.held_modseq, None);
        assert_eq!(s.count(), 2);
        // CONDSTORE alone: MODSEQ without UID, EXPUNGE as usual
        let cs = Enabled {
            condstore: true,
            qresync: false,
        };
        let mut s = mailbox();
        out.clear();
        let d = Delta {
            highest_modseq: 9,
            next_uid: 6,
            changed: vec![row(5, "\\Flagged", 9)],
            expunged: vec![(2, 8)],
            ..Default::default()
        };
        s.apply(d, true, cs, &mut out);
        assert_eq!(
            text(&out),
            "* 2 EXPUNGE\r\n* 3 FETCH (FLAGS (\\Flagged \\Recent) MODSEQ (9))\r\n"
        );
    }

    #[test]
    fn the_saved_result_follows_expunges() {
        let mut s = mailbox();
        s.saved = vec![2, 4, 5];
        assert_eq!(s.saved_set(true), "2,4:5");
        assert_eq!(s.saved_set(false), "2:4");
        let mut out = Vec::new();
        let d = Delta {
            highest_modseq: 5,
            next_uid: 6,
            expunged: vec![(4, 5)],
            ..Default::default()
        };
        s.apply(d, true, Enabled::default(), &mut out);
        assert_eq!(s.saved_set(true), "2,5");
        assert_eq!(s.saved_set(false), "2:3");
        s.saved.clear();
        assert_eq!(s.saved_set(false), "");
    }

    #[test]
    fn own_flag_changes_are_not_repeated() {
        let mut s = mailbox();
        s.msgs[0].flags = Flags::parse("\\Seen");
        let mut out = Vec::new();
        let d = Delta {
            highest_modseq: 5,
            next_uid: 6,
            changed: vec![row(1, "\\Seen", 5)],
            ..Default::default()
        };
        s.apply(d, true, Enabled::default(), &mut out);
        assert!(out.is_empty());
    }
}
