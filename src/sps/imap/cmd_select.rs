//! The selected state: SELECT, EXAMINE (with CONDSTORE and QRESYNC, RFC 7162), CLOSE,
//! UNSELECT (RFC 3691), EXPUNGE and UID EXPUNGE (RFC 4315).

use imap_codec::imap_types::command::SelectParameter;
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::sequence::SequenceSet;

use super::names;
use super::response::{self, Done, Kind};
use super::selected::{Msg, Selected};
use super::sequence::{self, Ranges};
use super::session::Session;
use super::store::{self, Target, Vanished};

/// What a store request needs to know of a message of the snapshot.
pub(super) fn target(m: &Msg) -> Target {
    Target {
        uid: m.uid as i64,
        message_id: m.message_id,
        flags: m.flags.stored(),
        modseq: m.modseq,
        internal_date: m.internal_date,
        size: m.size,
    }
}

/// The QRESYNC parameter of a SELECT (RFC 7162, 3.2.5).
struct Resync {
    uidvalidity: u32,
    modseq: i64,
    /// `None`: all UIDs (1 to UIDNEXT-1).
    known: Option<Ranges>,
    /// (message number, UID) pairs the client had.
    seq_match: Vec<(u32, u32)>,
}

/// Most sequence-match pairs looked at.
const MAX_SEQ_MATCH: usize = 10_000;

/// The numbers of a set without `*`, if there are not too many.
fn numbers(set: &SequenceSet) -> Option<Vec<u32>> {
    let r = Ranges::new(set, 0);
    let mut out = Vec::new();
    for &(a, b) in r.ranges() {
        if a == 0
            || (b - a) as usize >= MAX_SEQ_MATCH
            || out.len() + (b - a) as usize >= MAX_SEQ_MATCH
        {
            return None;
        }
        out.extend(a..=b);
    }
    Some(out)
}

/// What a client resynchronizing with QRESYNC must hear once the mailbox is selected:
/// `* VANISHED (EARLIER)` for the known UIDs expunged after its MODSEQ, then a FETCH (UID
/// FLAGS MODSEQ) for each message changed after it (those it knows, and the new ones).
fn resync_lines(sel: &Selected, r: &Resync, vanished: &Vanished, out: &mut Vec<u8>) {
    let known = |u: u32| r.known.as_ref().is_none_or(|k| k.contains(u));
    let top = u32::try_from(sel.next_uid - 1).unwrap_or(u32::MAX);
    let mut gone: Vec<(u32, u32)> = vanished
        .uids
        .iter()
        .filter_map(|&u| u32::try_from(u).ok())
        .filter(|&u| known(u) && sel.index_of(u).is_none())
        .map(|u| (u, u))
        .collect();
    if !vanished.complete {
        // tombstones may have been purged: every known UID that is missing, except below a
        // UID the client's sequence numbers show nothing was expunged under
        let floor = r
            .seq_match
            .iter()
            .filter(|&&(seq, uid)| sel.index_of(uid).is_some_and(|i| i as u32 + 1 == seq))
            .map(|&(_, uid)| uid)
            .max()
            .unwrap_or(0);
        let all = [(1, top)];
        let within: Vec<(u32, u32)> = r
            .known
            .as_ref()
            .map_or(&all[..], |k| k.ranges())
            .iter()
            .filter(|&&(_, b)| b > floor)
            .map(|&(a, b)| (a.max(floor.saturating_add(1)), b))
            .collect();
        let present: Vec<u32> = sel.msgs.iter().map(|m| m.uid).collect();
        gone.extend(sequence::gaps(&within, &present, top));
    }
    let gone = sequence::merge(gone);
    if !gone.is_empty() {
        response::line(
            out,
            &format!("VANISHED (EARLIER) {}", sequence::ranges_text(&gone)),
        );
    }
    let max_known = r.known.as_ref().and_then(|k| k.last()).unwrap_or(top);
    for (i, m) in sel.msgs.iter().enumerate() {
        if m.modseq > r.modseq && (known(m.uid) || m.uid > max_known) {
            response::line(
                out,
                &format!(
                    "{} FETCH (UID {} FLAGS {} MODSEQ ({}))",
                    i + 1,
                    m.uid,
                    m.flags.render(m.recent),
                    m.modseq
                ),
            );
        }
    }
}

impl Session {
    pub(super) async fn select(
        &mut self,
        m: &Mailbox<'static>,
        read_only: bool,
        parameters: Vec<SelectParameter>,
    ) -> Done {
        // the mailbox selected before is left, whatever happens next
        if self.selected.take().is_some() {
            self.handle.set_state("AUTHENTICATED");
            if self.enabled.qresync {
                response::untagged_status(
                    &mut self.out,
                    Kind::Ok,
                    Some("CLOSED"),
                    "Previous mailbox closed",
                );
            }
        }
        let mut resync = None;
        for p in parameters {
            match p {
                SelectParameter::CondStore => self.enabled.condstore = true,
                SelectParameter::QResync {
                    uid_validity,
                    mod_sequence_value,
                    known_uids,
                    seq_match_data,
                } => {
                    if !self.enabled.qresync {
                        return Done::bad("QRESYNC is not enabled");
                    }
                    let seq_match = seq_match_data
                        .and_then(|(seqs, uids)| {
                            let (s, u) = (numbers(&seqs)?, numbers(&uids)?);
                            (s.len() == u.len()).then(|| s.into_iter().zip(u).collect())
                        })
                        .unwrap_or_default();
                    resync = Some(Resync {
                        uidvalidity: uid_validity.get(),
                        modseq: i64::try_from(mod_sequence_value.get()).unwrap_or(i64::MAX),
                        known: known_uids.map(|k| Ranges::new(&k, u32::MAX)),
                        seq_match,
                    });
                }
            }
        }
        let Ok(name) = names::from_mailbox(m) else {
            return Done::no("Mailbox doesn't exist").code("NONEXISTENT");
        };
        let since = resync.as_ref().map(|r| r.modseq);
        let opened = match store::open(
            &self.ctx.db,
            self.account_id(),
            name.clone(),
            read_only,
            since,
        )
        .await
        {
            Ok(Some(o)) => o,
            Ok(None) => return Done::no("Mailbox doesn't exist").code("NONEXISTENT"),
            Err(_) => return Done::unavailable(),
        };
        let sel = Selected::new(
            &opened.folder,
            name.clone(),
            read_only,
            &opened.rows,
            opened.first_recent,
        );
        sel.write_flags(&mut self.out);
        response::line(&mut self.out, &format!("{} EXISTS", sel.count()));
        response::line(&mut self.out, &format!("{} RECENT", sel.recent()));
        if let Some(n) = sel.first_unseen() {
            response::untagged_status(
                &mut self.out,
                Kind::Ok,
                Some(&format!("UNSEEN {n}")),
                &format!("Message {n} is the first unseen"),
            );
        }
        response::untagged_status(
            &mut self.out,
            Kind::Ok,
            Some(&format!("UIDVALIDITY {}", sel.uidvalidity)),
            "UIDs valid",
        );
        response::untagged_status(
            &mut self.out,
            Kind::Ok,
            Some(&format!("UIDNEXT {}", sel.next_uid)),
            "Predicted next UID",
        );
        if self.enabled.condstore {
            response::untagged_status(
                &mut self.out,
                Kind::Ok,
                Some(&format!("HIGHESTMODSEQ {}", sel.modseq.max(1))),
                "Highest",
            );
        }
        if let (Some(r), Some(v)) = (&resync, &opened.vanished) {
            // a resynchronization for another UIDVALIDITY is a plain SELECT
            if r.uidvalidity == sel.uidvalidity {
                resync_lines(&sel, r, v, &mut self.out);
            }
        }
        self.selected = Some(sel);
        self.handle.set_state(&format!("SELECTED {name}"));
        if read_only {
            Done::ok("EXAMINE completed").code("READ-ONLY")
        } else {
            Done::ok("SELECT completed").code("READ-WRITE")
        }
    }

    fn deselect(&mut self) {
        self.selected = None;
        self.handle.set_state("AUTHENTICATED");
    }

    pub(super) fn unselect(&mut self) -> Done {
        self.deselect();
        Done::ok("UNSELECT completed")
    }

    /// CLOSE: the messages flagged `\Deleted` are removed, without EXPUNGE responses.
    pub(super) async fn close(&mut self) -> Done {
        let account_id = self.account_id();
        if let Some(sel) = self.selected.as_ref().filter(|s| !s.read_only) {
            let targets: Vec<Target> = sel
                .msgs
                .iter()
                .filter(|m| !m.expunged)
                .map(target)
                .collect();
            if !targets.is_empty() {
                let (folder_id, modseq) = (sel.folder_id, sel.modseq);
                if store::expunge(&self.ctx.db, account_id, folder_id, modseq, targets)
                    .await
                    .is_err()
                {
                    return Done::unavailable();
                }
            }
        }
        self.deselect();
        Done::ok("CLOSE completed")
    }

    /// EXPUNGE, or UID EXPUNGE of a set: the EXPUNGE responses come with the
    /// synchronization that follows every command.
    pub(super) async fn expunge(&mut self, uids: Option<SequenceSet>) -> Done {
        let account_id = self.account_id();
        let Some(sel) = self.selected.as_ref() else {
            return Done::bad("No mailbox selected");
        };
        if sel.read_only {
            return Done::no("Mailbox is read-only").code("READ-ONLY");
        }
        let wanted: Vec<usize> = match &uids {
            None => (0..sel.msgs.len()).collect(),
            Some(set) => match sel.targets(set, true) {
                Ok(t) => t,
                Err(_) => return Done::bad("Invalid UID set"),
            },
        };
        let targets: Vec<Target> = wanted
            .into_iter()
            .map(|i| &sel.msgs[i])
            .filter(|m| !m.expunged)
            .map(target)
            .collect();
        if targets.is_empty() {
            return Done::ok("EXPUNGE completed");
        }
        let (folder_id, modseq) = (sel.folder_id, sel.modseq);
        match store::expunge(&self.ctx.db, account_id, folder_id, modseq, targets).await {
            Ok(_) => Done::ok("EXPUNGE completed"),
            Err(_) => Done::unavailable(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::mailbox::{Folder, MessageRow};
    use chrono::Utc;

    /// UIDs 2, 4, 6, 7, 9 with MODSEQs 3, 12, 5, 14, 20; UIDNEXT 11.
    fn mailbox() -> Selected {
        let rows: Vec<MessageRow> = [(2, 3), (4, 12), (6, 5), (7, 14), (9, 20)]
            .iter()
            .map(|&(uid, modseq)| MessageRow {
                uid,
                message_id: uid,
                flags: if uid == 4 {
                    "\\Seen".into()
                } else {
                    String::new()
                },
                modseq,
                internal_date: Utc::now(),
                size: 1,
            })
            .collect();
        let f = Folder {
            folder_id: 1,
            path: "INBOX".into(),
            special_use: None,
            uidvalidity: 7,
            next_uid: 11,
            highest_modseq: 20,
            message_count: 5,
            recent_uid: 11,
        };
        Selected::new(&f, "INBOX".into(), false, &rows, 11)
    }

    fn lines(r: &Resync, v: &Vanished) -> String {
        let mut out = Vec::new();
        resync_lines(&mailbox(), r, v, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn resync(known: Option<&str>, seq_match: Vec<(u32, u32)>) -> Resync {
        Resync {
            uidvalidity: 7,
            modseq: 10,
            known: known.map(|k| Ranges::new(&k.parse().unwrap(), u32::MAX)),
            seq_match,
        }
    }

    #[test]
    fn resynchronization_from_the_tombstones() {
        // the client knew 1:8 at MODSEQ 10; 3 and 5 were expunged after it, 8 too, 1 before
        let v = Vanished {
            uids: vec![3, 5, 8],
            complete: true,
        };
        assert_eq!(
            lines(&resync(Some("1:8"), vec![]), &v),
            "* VANISHED (EARLIER) 3,5,8\r\n\
             * 2 FETCH (UID 4 FLAGS (\\Seen) MODSEQ (12))\r\n\
             * 4 FETCH (UID 7 FLAGS () MODSEQ (14))\r\n\
             * 5 FETCH (UID 9 FLAGS () MODSEQ (20))\r\n"
        );
        // only what it knows (and what is new above it)
        assert_eq!(
            lines(&resync(Some("2:5"), vec![]), &v),
            "* VANISHED (EARLIER) 3,5\r\n\
             * 2 FETCH (UID 4 FLAGS (\\Seen) MODSEQ (12))\r\n\
             * 4 FETCH (UID 7 FLAGS () MODSEQ (14))\r\n\
             * 5 FETCH (UID 9 FLAGS () MODSEQ (20))\r\n"
        );
        let v = Vanished {
            uids: vec![],
            complete: true,
        };
        assert!(!lines(&resync(None, vec![]), &v).contains("VANISHED"));
    }

    #[test]
    fn resynchronization_without_all_the_tombstones() {
        // purged tombstones: every known UID missing, 1 included
        let v = Vanished {
            uids: vec![8],
            complete: false,
        };
        let out = lines(&resync(Some("1:8"), vec![]), &v);
        assert!(out.starts_with("* VANISHED (EARLIER) 1,3,5,8\r\n"), "{out}");
        // no known UIDs: 1 to UIDNEXT-1
        let out = lines(&resync(None, vec![]), &v);
        assert!(
            out.starts_with("* VANISHED (EARLIER) 1,3,5,8,10\r\n"),
            "{out}"
        );
        // the client's message 2 was UID 4, as now: nothing went below 4
        let out = lines(&resync(Some("1:8"), vec![(1, 1), (2, 4)]), &v);
        assert!(out.starts_with("* VANISHED (EARLIER) 5,8\r\n"), "{out}");
        // a pair that no longer matches proves nothing
        let out = lines(&resync(Some("1:8"), vec![(4, 6)]), &v);
        assert!(out.starts_with("* VANISHED (EARLIER) 1,3,5,8\r\n"), "{out}");
    }
}
