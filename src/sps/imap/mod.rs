//! IMAP4SRV: IMAP4rev1 (RFC 3501) and its common extensions.

use std::sync::Arc;

use super::{Client, Ctx};

pub async fn serve(ctx: Arc<Ctx>, client: Client) {
    let _ = (ctx, client);
}
