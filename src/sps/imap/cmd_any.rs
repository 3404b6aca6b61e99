//! Commands valid in any state, and the few without a mailbox: CAPABILITY, LOGOUT, ID
//! (RFC 2971), ENABLE (RFC 5161), NAMESPACE (RFC 2342). NOOP and CHECK only synchronize,
//! which the session does after every command.

use imap_codec::imap_types::core::{IString, NString, Vec1};
use imap_codec::imap_types::extensions::enable::CapabilityEnable;

use super::response::{self, Done};
use super::session::{Reply, Session, State};

/// What every session can do, logged in or not.
const BASE: &[&str] = &[
    "IMAP4rev1",
    "LITERAL+",
    "SASL-IR",
    "ID",
    "ENABLE",
    "IDLE",
    "NAMESPACE",
    "UIDPLUS",
    "MOVE",
    "UNSELECT",
    "SPECIAL-USE",
    "QUOTA",
    "QUOTA=RES-STORAGE",
    "CHILDREN",
];

impl Session {
    /// Whether logins are refused on this connection until TLS is on.
    pub(super) fn login_disabled(&self) -> bool {
        self.cfg.login_disabled_without_tls
            && !self.tls
            && !self.peer.ip().to_canonical().is_loopback()
    }

    /// The capabilities of the moment.
    pub(super) fn capabilities(&self) -> String {
        let mut caps: Vec<&str> = BASE.to_vec();
        if self.state() == State::NotAuthenticated {
            if self.cfg.tls.is_some() && !self.tls {
                caps.push("STARTTLS");
            }
            if self.login_disabled() {
                caps.push("LOGINDISABLED");
            } else {
                caps.push("AUTH=PLAIN");
            }
        }
        caps.join(" ")
    }

    pub(super) fn capability(&mut self) -> Done {
        let caps = self.capabilities();
        response::line(&mut self.out, &format!("CAPABILITY {caps}"));
        Done::ok("CAPABILITY completed")
    }

    pub(super) async fn logout(&mut self, tag: &str) -> Reply {
        response::bye(&mut self.out, None, "Logging out");
        response::tagged(&mut self.out, tag, &Done::ok("LOGOUT completed"));
        Reply::Close
    }

    pub(super) fn id(
        &mut self,
        _client: Option<Vec<(IString<'static>, NString<'static>)>>,
    ) -> Done {
        response::line(
            &mut self.out,
            &format!(
                "ID (\"name\" \"esmail\" \"version\" \"{}\")",
                env!("CARGO_PKG_VERSION")
            ),
        );
        Done::ok("ID completed")
    }

    /// Nothing can be enabled yet (CONDSTORE and QRESYNC will be).
    pub(super) fn enable(&mut self, _caps: Vec1<CapabilityEnable<'static>>) -> Done {
        response::line(&mut self.out, "ENABLED");
        Done::ok("ENABLE completed")
    }

    pub(super) fn namespace(&mut self) -> Done {
        response::line(&mut self.out, "NAMESPACE ((\"\" \"/\")) NIL NIL");
        Done::ok("NAMESPACE completed")
    }
}
