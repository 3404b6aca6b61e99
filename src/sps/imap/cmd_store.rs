//! Changing messages: STORE (FLAGS, +FLAGS, -FLAGS, .SILENT; UNCHANGEDSINCE of CONDSTORE,
//! RFC 7162), COPY and MOVE (RFC 6851), with their UID forms and the COPYUID of UIDPLUS.

use imap_codec::imap_types::command::StoreModifier;
use imap_codec::imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::sequence::SequenceSet;

use super::cmd_folders::valid_name;
use super::cmd_select::target;
use super::flags::{self, FlagError};
use super::response::{self, Done, Kind};
use super::session::Session;
use super::store::{self, Copied, Target};

impl Session {
    pub(super) async fn store(
        &mut self,
        set: SequenceSet,
        kind: StoreType,
        answer: StoreResponse,
        given: Vec<Flag<'static>>,
        uid: bool,
        modifiers: Vec<StoreModifier>,
    ) -> Done {
        let mut unchanged_since = None;
        for m in modifiers {
            match m {
                StoreModifier::UnchangedSince(n) => unchanged_since = Some(n),
            }
        }
        if unchanged_since.is_some() {
            self.enable_condstore();
        }
        let condstore = self.enabled.condstore;
        let qresync = self.enabled.qresync;
        let given = match flags::from_imap(&given) {
            Ok(f) => f,
            Err(e @ FlagError::NotSettable(_)) => return Done::bad(e.to_string()),
            Err(e) => return Done::no(e.to_string()).code("LIMIT"),
        };
        let account_id = self.account_id();
        let Some(sel) = self.selected.as_mut() else {
            return Done::bad("No mailbox selected");
        };
        if sel.read_only {
            return Done::no("Mailbox is read-only").code("READ-ONLY");
        }
        let idx = match sel.targets(&set, uid) {
            Ok(i) => i,
            Err(_) => return Done::bad("Invalid message sequence number"),
        };
        let targets: Vec<Target> = idx.iter().map(|&i| target(&sel.msgs[i])).collect();
        if targets.is_empty() {
            return Done::ok("STORE completed");
        }
        let r = store::store_flags(
            &self.ctx.db,
            account_id,
            sel.folder_id,
            sel.modseq,
            targets,
            kind,
            given,
            unchanged_since,
        )
        .await;
        let result = match r {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Done::no(e.to_string()).code("LIMIT"),
            Err(_) => return Done::unavailable(),
        };
        let mut shown = Vec::new();
        for s in result.stored {
            let Some(i) = u32::try_from(s.uid).ok().and_then(|u| sel.index_of(u)) else {
                continue;
            };
            sel.msgs[i].flags = s.flags;
            sel.msgs[i].modseq = s.modseq;
            shown.push((i, s.changed));
        }
        let changed: Vec<_> = shown
            .iter()
            .map(|&(i, _)| sel.msgs[i].flags.clone())
            .collect();
        sel.announce_keywords(changed.iter(), &mut self.out);
        for (i, changed) in shown {
            let m = &sel.msgs[i];
            let mut items = Vec::new();
            if answer == StoreResponse::Answer {
                items.push(format!("FLAGS {}", m.flags.render(m.recent)));
            } else if !(condstore && changed) {
                // .SILENT: nothing, but the new MODSEQ to a CONDSTORE client (RFC 7162, 3.1.3)
                continue;
            }
            if uid || qresync {
                items.push(format!("UID {}", m.uid));
            }
            if condstore {
                items.push(format!("MODSEQ ({})", m.modseq.max(1)));
            }
            response::line(
                &mut self.out,
                &format!("{} FETCH ({})", i + 1, items.join(" ")),
            );
        }
        if !result.modified.is_empty() {
            let mut modified: Vec<u32> = result
                .modified
                .iter()
                .filter_map(|&u| u32::try_from(u).ok())
                .filter_map(|u| {
                    let i = sel.index_of(u)?;
                    Some(if uid { u } else { i as u32 + 1 })
                })
                .collect();
            modified.sort_unstable();
            return Done::ok("Conditional STORE failed")
                .code(format!("MODIFIED {}", response::number_set(&modified)));
        }
        Done::ok("STORE completed")
    }

    /// COPY or MOVE.
    pub(super) async fn copy(
        &mut self,
        set: SequenceSet,
        dest: &Mailbox<'static>,
        uid: bool,
        is_move: bool,
    ) -> Done {
        let word = if is_move { "MOVE" } else { "COPY" };
        let dest = match valid_name(dest) {
            Ok(n) => n,
            Err(_) => return Done::no("Mailbox doesn't exist").code("TRYCREATE"),
        };
        let account_id = self.account_id();
        let Some(sel) = self.selected.as_ref() else {
            return Done::bad("No mailbox selected");
        };
        if is_move && sel.read_only {
            return Done::no("Mailbox is read-only").code("READ-ONLY");
        }
        let idx = match sel.targets(&set, uid) {
            Ok(i) => i,
            Err(_) => return Done::bad("Invalid message sequence number"),
        };
        let targets: Vec<Target> = idx
            .iter()
            .map(|&i| &sel.msgs[i])
            .filter(|m| !m.expunged)
            .map(target)
            .collect();
        if targets.is_empty() {
            return Done::ok(format!("{word} completed: no messages"));
        }
        let r = store::copy(
            &self.ctx.db,
            account_id,
            sel.folder_id,
            sel.modseq,
            targets,
            dest,
            is_move,
        )
        .await;
        match r {
            Ok(Copied::Done { uidvalidity, pairs }) => {
                if pairs.is_empty() {
                    return Done::no(format!("{word}: the messages no longer exist"))
                        .code("EXPUNGEISSUED");
                }
                let src: Vec<u32> = pairs.iter().map(|p| p.0 as u32).collect();
                let dst: Vec<u32> = pairs.iter().map(|p| p.1 as u32).collect();
                let code = format!(
                    "COPYUID {uidvalidity} {} {}",
                    response::number_set(&src),
                    response::number_set(&dst)
                );
                if is_move {
                    // before the EXPUNGE responses, which the synchronization sends
                    response::untagged_status(&mut self.out, Kind::Ok, Some(&code), "Moved");
                    Done::ok("MOVE completed")
                } else {
                    Done::ok("COPY completed").code(code)
                }
            }
            Ok(Copied::NoFolder) => Done::no("Mailbox doesn't exist").code("TRYCREATE"),
            Ok(Copied::OverQuota) => Done::no("Quota exceeded").code("OVERQUOTA"),
            Ok(Copied::Refused(why)) => Done::no(format!("{word} refused: {why}")),
            Err(_) => Done::unavailable(),
        }
    }
}
