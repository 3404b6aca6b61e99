//! IMAP4SRV: IMAP4rev1 (RFC 3501) and its common extensions: LITERAL+, SASL-IR, ID, ENABLE,
//! IDLE, NAMESPACE, UIDPLUS, MOVE, UNSELECT, SPECIAL-USE, QUOTA, CHILDREN, CONDSTORE and
//! QRESYNC, ESEARCH, SEARCHRES, STARTTLS.
//!
//! Commands are decoded with imap-codec ([`framing`] splits the input into messages with
//! their literals, [`parse`] decodes them); responses are written by [`response`]. A session
//! ([`session`]) keeps a snapshot of its selected mailbox ([`selected`]) and brings it up to
//! date from the store after every command; everything it asks of the store goes through
//! [`store`], one short transaction per request. The commands are grouped in the `cmd_*`
//! modules and [`idle`]; the pure parts (names and LIST patterns, sequence sets, flags,
//! SEARCH keys, FETCH items) have their own modules.

mod cmd_any;
mod cmd_append;
mod cmd_auth;
mod cmd_fetch;
mod cmd_folders;
mod cmd_quota;
mod cmd_search;
mod cmd_select;
mod cmd_store;
mod fetch;
pub(crate) mod flags;
mod framing;
#[doc(hidden)]
pub mod fuzz;
#[cfg(test)]
mod heads_tests;
mod idle;
mod list;
mod mime;
mod names;
mod parse;
mod response;
mod search;
mod selected;
mod sequence;
mod session;
mod store;

use std::sync::Arc;

use super::{io, registry::SessionHandle, Client, Ctx};

/// Serves a client handed over by IOLISTENER or accepted on the instance's own port.
pub async fn serve(ctx: Arc<Ctx>, client: Client, handle: SessionHandle) {
    let peer = client.peer;
    let cfg = ctx.cfg();
    let (stream, tls) = match io::open(client, cfg.tls.as_ref()).await {
        Ok(s) => s,
        Err(e) => {
            log::debug!("imap {peer}: {e}");
            return;
        }
    };
    serve_stream(ctx, stream, handle, tls).await
}

/// Serves a connection (already in TLS when `tls_on`).
pub async fn serve_stream(ctx: Arc<Ctx>, stream: io::Stream, handle: SessionHandle, tls_on: bool) {
    session::Session::new(ctx, stream, handle, tls_on)
        .run()
        .await
}
