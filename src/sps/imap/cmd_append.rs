//! APPEND, with the APPENDUID of UIDPLUS; the account's quota applies (`[OVERQUOTA]`), and a
//! missing mailbox is answered `[TRYCREATE]`.

use chrono::Utc;
use imap_codec::imap_types::datetime::DateTime;
use imap_codec::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_codec::imap_types::flag::Flag;
use imap_codec::imap_types::mailbox::Mailbox;

use super::flags::{self, FlagError};
use super::names;
use super::response::Done;
use super::session::Session;
use super::store::{self, Appended};

impl Session {
    pub(super) async fn append(
        &mut self,
        m: &Mailbox<'static>,
        given: &[Flag<'static>],
        date: Option<DateTime>,
        message: LiteralOrLiteral8<'static>,
    ) -> Done {
        let Ok(name) = names::from_mailbox(m) else {
            return Done::no("Mailbox doesn't exist").code("TRYCREATE");
        };
        let flags = match flags::from_imap(given) {
            Ok(f) => f,
            Err(e @ FlagError::NotSettable(_)) => return Done::bad(e.to_string()),
            Err(e) => return Done::no(e.to_string()).code("LIMIT"),
        };
        let content: Vec<u8> = match message {
            LiteralOrLiteral8::Literal(l) => l.into_inner().into_owned(),
            LiteralOrLiteral8::Literal8(l) => l.data.into_owned(),
        };
        if content.is_empty() {
            return Done::no("An empty message cannot be stored");
        }
        let date = date
            .map(|d| d.as_ref().with_timezone(&Utc))
            .unwrap_or_else(Utc::now);
        let r = store::append(
            &self.ctx.db,
            self.account_id(),
            self.cfg.node_id,
            name,
            content,
            flags.stored(),
            date,
        )
        .await;
        match r {
            Ok(Appended::Done { uidvalidity, uid }) => {
                Done::ok("APPEND completed").code(format!("APPENDUID {uidvalidity} {uid}"))
            }
            Ok(Appended::NoFolder) => Done::no("Mailbox doesn't exist").code("TRYCREATE"),
            Ok(Appended::OverQuota) => Done::no("Quota exceeded").code("OVERQUOTA"),
            Ok(Appended::Refused(why)) => Done::no(format!("APPEND refused: {why}")),
            Err(_) => Done::unavailable(),
        }
    }
}
