//! QUOTA (RFC 9208): one quota root, `""`, with the account's STORAGE in KiB; a quota of 0
//! means no limit (`* QUOTA "" ()`). Quotas are set by the administrator, not by SETQUOTA.

use imap_codec::imap_types::core::AString;
use imap_codec::imap_types::mailbox::Mailbox;

use super::names;
use super::response::{self, Done};
use super::session::Session;
use super::store;

/// `STORAGE used limit` in KiB (used rounded up), or nothing without a limit.
pub(super) fn storage(quota_bytes: i64, used_bytes: i64) -> String {
    if quota_bytes <= 0 {
        return String::new();
    }
    let used = (used_bytes.max(0) as u64).div_ceil(1024);
    let limit = quota_bytes as u64 / 1024;
    format!("STORAGE {used} {limit}")
}

impl Session {
    async fn write_quota(&mut self) -> Result<(), Done> {
        match store::account(&self.ctx.db, self.account_id()).await {
            Ok(Some(a)) => {
                let s = storage(a.quota_bytes, a.used_bytes);
                response::line(&mut self.out, &format!("QUOTA \"\" ({s})"));
                Ok(())
            }
            Ok(None) => Err(Done::no("no such account")),
            Err(_) => Err(Done::unavailable()),
        }
    }

    pub(super) async fn get_quota(&mut self, root: &AString<'static>) -> Done {
        if !root.as_ref().is_empty() {
            return Done::no("no such quota root").code("NONEXISTENT");
        }
        match self.write_quota().await {
            Ok(()) => Done::ok("GETQUOTA completed"),
            Err(d) => d,
        }
    }

    pub(super) async fn get_quota_root(&mut self, m: &Mailbox<'static>) -> Done {
        let Ok(name) = names::from_mailbox(m) else {
            return Done::no("Mailbox doesn't exist").code("NONEXISTENT");
        };
        match store::folder(&self.ctx.db, self.account_id(), name.clone()).await {
            Ok(Some(_)) => {}
            Ok(None) => return Done::no("Mailbox doesn't exist").code("NONEXISTENT"),
            Err(_) => return Done::unavailable(),
        }
        self.out.extend_from_slice(b"* QUOTAROOT ");
        response::mailbox(&mut self.out, &name);
        self.out.extend_from_slice(b" \"\"\r\n");
        match self.write_quota().await {
            Ok(()) => Done::ok("GETQUOTAROOT completed"),
            Err(d) => d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_in_kib() {
        assert_eq!(storage(0, 5000), "");
        assert_eq!(storage(10 * 1024 * 1024, 1), "STORAGE 1 10240");
        assert_eq!(storage(2048, 2048), "STORAGE 2 2");
        assert_eq!(storage(2048, 2049), "STORAGE 3 2");
    }
}
