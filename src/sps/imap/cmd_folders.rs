//! Mailboxes: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS (with
//! HIGHESTMODSEQ, RFC 7162).

use std::fmt::Write as _;

use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_codec::imap_types::status::StatusDataItemName;

use super::list::{self, Options};
use super::names::{self, NameError};
use super::response::{self, Done};
use super::session::Session;
use super::store::{self, Created, Deleted, Renamed};

fn invalid(e: NameError) -> Done {
    Done::no(e.to_string()).code("CANNOT")
}

fn nonexistent() -> Done {
    Done::no("Mailbox doesn't exist").code("NONEXISTENT")
}

/// The name of a mailbox argument, validated.
pub(super) fn valid_name(m: &Mailbox<'_>) -> Result<String, Done> {
    let name = names::from_mailbox(m).map_err(invalid)?;
    names::validate(&name).map_err(invalid)?;
    Ok(name)
}

impl Session {
    pub(super) async fn create(&mut self, m: &Mailbox<'static>) -> Done {
        let raw = match names::from_mailbox(m) {
            Ok(n) => n,
            Err(e) => return invalid(e),
        };
        // a trailing delimiter declares the intent to create names below (RFC 3501, 6.3.3)
        let name = names::normalize(raw.strip_suffix(names::SEP).unwrap_or(&raw));
        if let Err(e) = names::validate(&name) {
            return invalid(e);
        }
        if name == names::INBOX {
            return Done::no("INBOX always exists").code("ALREADYEXISTS");
        }
        match store::create(&self.ctx.db, self.account_id(), name).await {
            Ok(Created::Done) => Done::ok("CREATE completed"),
            Ok(Created::Exists) => Done::no("Mailbox already exists").code("ALREADYEXISTS"),
            Ok(Created::NoAccount) => Done::no("no such account"),
            Err(_) => Done::unavailable(),
        }
    }

    pub(super) async fn delete(&mut self, m: &Mailbox<'static>) -> Done {
        let name = match names::from_mailbox(m) {
            Ok(n) => n,
            Err(_) => return nonexistent(),
        };
        if name == names::INBOX {
            return Done::no("INBOX cannot be deleted").code("CANNOT");
        }
        match store::delete(&self.ctx.db, self.account_id(), name).await {
            Ok(Deleted::Done) => Done::ok("DELETE completed"),
            Ok(Deleted::NoSuch) => nonexistent(),
            Ok(Deleted::HasChildren) => {
                Done::no("Mailbox has children, delete them first").code("INUSE")
            }
            Err(_) => Done::unavailable(),
        }
    }

    pub(super) async fn rename(&mut self, from: &Mailbox<'static>, to: &Mailbox<'static>) -> Done {
        let from = match names::from_mailbox(from) {
            Ok(n) => n,
            Err(_) => return nonexistent(),
        };
        let to = match valid_name(to) {
            Ok(n) => n,
            Err(d) => return d,
        };
        if to == names::INBOX {
            return Done::no("INBOX already exists").code("ALREADYEXISTS");
        }
        if to == from || names::is_below(&to, &from) {
            return Done::no("A mailbox cannot be renamed below itself").code("CANNOT");
        }
        match store::rename(&self.ctx.db, self.account_id(), from, to).await {
            Ok(Renamed::Done) => Done::ok("RENAME completed"),
            Ok(Renamed::NoSuch) => nonexistent(),
            Ok(Renamed::Exists) => Done::no("Mailbox already exists").code("ALREADYEXISTS"),
            Ok(Renamed::NoAccount) => Done::no("no such account"),
            Err(_) => Done::unavailable(),
        }
    }

    pub(super) async fn subscribe(&mut self, m: &Mailbox<'static>, on: bool) -> Done {
        let name = match if on {
            valid_name(m)
        } else {
            names::from_mailbox(m).map_err(invalid)
        } {
            Ok(n) => n,
            Err(d) => return d,
        };
        match store::subscribe(&self.ctx.db, self.account_id(), name, on).await {
            Ok(()) if on => Done::ok("SUBSCRIBE completed"),
            Ok(()) => Done::ok("UNSUBSCRIBE completed"),
            Err(_) => Done::unavailable(),
        }
    }

    pub(super) async fn list(
        &mut self,
        reference: &Mailbox<'static>,
        pattern: &ListMailbox<'static>,
        opts: Options,
        lsub: bool,
    ) -> Done {
        let word = if lsub { "LSUB" } else { "LIST" };
        let reference = match reference {
            Mailbox::Inbox => names::INBOX.to_string(),
            Mailbox::Other(o) => String::from_utf8_lossy(o.as_ref()).into_owned(),
        };
        let pattern_raw = match pattern {
            ListMailbox::Token(t) => String::from_utf8_lossy(t.as_ref()).into_owned(),
            ListMailbox::String(s) => String::from_utf8_lossy(s.as_ref()).into_owned(),
        };
        if pattern_raw.is_empty() {
            // the hierarchy delimiter and root
            response::line(&mut self.out, &format!("{word} (\\Noselect) \"/\" \"\""));
            return Done::ok(format!("{word} completed"));
        }
        let pattern = names::pattern(&reference, &pattern_raw);
        let (folders, subs) = match store::folders(&self.ctx.db, self.account_id()).await {
            Ok(x) => x,
            Err(_) => return Done::unavailable(),
        };
        let entries = if lsub {
            list::lsub(&subs, &pattern)
        } else {
            list::list(&folders, &subs, &pattern, &opts)
        };
        for e in entries {
            self.out
                .extend_from_slice(format!("* {word} {} \"/\" ", e.attrs()).as_bytes());
            response::mailbox(&mut self.out, &e.name);
            self.out.extend_from_slice(b"\r\n");
        }
        Done::ok(format!("{word} completed"))
    }

    pub(super) async fn status(
        &mut self,
        m: &Mailbox<'static>,
        items: &[StatusDataItemName],
    ) -> Done {
        let name = match names::from_mailbox(m) {
            Ok(n) => n,
            Err(_) => return nonexistent(),
        };
        use StatusDataItemName as I;
        let counts = items
            .iter()
            .any(|i| matches!(i, I::Recent | I::Unseen | I::Deleted));
        if let Some(i) = items.iter().find(|i| {
            !matches!(
                i,
                I::Messages
                    | I::Recent
                    | I::UidNext
                    | I::UidValidity
                    | I::Unseen
                    | I::Deleted
                    | I::HighestModSeq
            )
        }) {
            return Done::bad(format!("unsupported STATUS item {i:?}"));
        }
        if items.contains(&I::HighestModSeq) {
            self.enable_condstore();
        }
        let st = match store::status(&self.ctx.db, self.account_id(), name.clone(), counts).await {
            Ok(Some(s)) => s,
            Ok(None) => return nonexistent(),
            Err(_) => return Done::unavailable(),
        };
        let mut vals = String::new();
        for i in items {
            if !vals.is_empty() {
                vals.push(' ');
            }
            let _ = match i {
                I::Messages => write!(vals, "MESSAGES {}", st.folder.message_count.max(0)),
                I::Recent => write!(vals, "RECENT {}", st.recent),
                I::UidNext => write!(vals, "UIDNEXT {}", st.folder.next_uid),
                I::UidValidity => write!(vals, "UIDVALIDITY {}", st.folder.uidvalidity),
                I::Unseen => write!(vals, "UNSEEN {}", st.unseen),
                I::Deleted => write!(vals, "DELETED {}", st.deleted),
                I::HighestModSeq => {
                    write!(vals, "HIGHESTMODSEQ {}", st.folder.highest_modseq.max(1))
                }
                _ => Ok(()),
            };
        }
        self.out.extend_from_slice(b"* STATUS ");
        response::mailbox(&mut self.out, &name);
        self.out
            .extend_from_slice(format!(" ({vals})\r\n").as_bytes());
        Done::ok("STATUS completed")
    }
}
