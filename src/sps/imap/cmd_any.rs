//! Commands valid in any state, and the few without a mailbox: CAPABILITY, LOGOUT, ID
//! (RFC 2971), ENABLE (RFC 5161: CONDSTORE and QRESYNC, RFC 7162), NAMESPACE (RFC 2342). NOOP
//! and CHECK only synchronize, which the session does after every command.

use imap_codec::imap_types::core::{IString, NString, Vec1};
use imap_codec::imap_types::extensions::enable::CapabilityEnable;

use super::response::{self, Done, Kind};
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
    "CONDSTORE",
    "QRESYNC",
    "ESEARCH",
    "SEARCHRES",
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

    /// CONDSTORE, and QRESYNC (which implies CONDSTORE); other names are ignored.
    pub(super) fn enable(&mut self, caps: Vec1<CapabilityEnable<'static>>) -> Done {
        let mut on: Vec<&str> = Vec::new();
        for c in caps.as_ref() {
            let name = c.to_string().to_ascii_uppercase();
            let word = match name.as_str() {
                "CONDSTORE" => {
                    self.enabled.condstore = true;
                    "CONDSTORE"
                }
                "QRESYNC" => {
                    self.enabled.condstore = true;
                    self.enabled.qresync = true;
                    "QRESYNC"
                }
                _ => continue,
            };
            if !on.contains(&word) {
                on.push(word);
            }
        }
        let mut line = String::from("ENABLED");
        for w in on {
            line.push(' ');
            line.push_str(w);
        }
        response::line(&mut self.out, &line);
        Done::ok("ENABLE completed")
    }

    /// A CONDSTORE enabling command (RFC 7162, 3.1): from now on MODSEQs are reported; with a
    /// mailbox selected, its HIGHESTMODSEQ is told at once.
    pub(super) fn enable_condstore(&mut self) {
        if self.enabled.condstore {
            return;
        }
        self.enabled.condstore = true;
        if let Some(sel) = &self.selected {
            response::untagged_status(
                &mut self.out,
                Kind::Ok,
                Some(&format!("HIGHESTMODSEQ {}", sel.modseq.max(1))),
                "Highest",
            );
        }
    }

    pub(super) fn namespace(&mut self) -> Done {
        response::line(&mut self.out, "NAMESPACE ((\"\" \"/\")) NIL NIL");
        Done::ok("NAMESPACE completed")
    }
}
