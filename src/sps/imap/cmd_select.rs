//! The selected state: SELECT, EXAMINE, CLOSE, UNSELECT (RFC 3691), EXPUNGE and UID EXPUNGE
//! (RFC 4315).

use imap_codec::imap_types::command::SelectParameter;
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::sequence::SequenceSet;

use super::names;
use super::response::{self, Done, Kind};
use super::selected::{Msg, Selected};
use super::session::Session;
use super::store::{self, Target};

/// What a store request needs to know of a message of the snapshot.
pub(super) fn target(m: &Msg) -> Target {
    Target {
        uid: m.uid as i64,
        message_id: m.message_id,
        flags: m.flags.stored(),
        internal_date: m.internal_date,
        size: m.size,
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
        }
        if !parameters.is_empty() {
            return Done::bad("SELECT parameters are not supported");
        }
        let Ok(name) = names::from_mailbox(m) else {
            return Done::no("Mailbox doesn't exist").code("NONEXISTENT");
        };
        let opened =
            match store::open(&self.ctx.db, self.account_id(), name.clone(), read_only).await {
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
