//! Logins of the protocol servers: the account's address (or its bare user name, when unique
//! across domains) and its password, checked against the directory's argon2 hash. A failure
//! is answered after a delay that grows with the recent failures of that client address for
//! that login (and, more slowly, for any login), so that one user's typos do not lock out the
//! other users behind the same address.

use std::net::SocketAddr;

use base64::Engine;

use super::{Ctx, Unavailable};
use crate::mail::intake::{self, AuthOutcome};

/// Longest login name or password taken from a client.
pub const MAX_CREDENTIAL: usize = 1024;

/// A logged-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub account_id: i64,
    /// The login as the directory knows it (the address in lower case).
    pub login: String,
}

/// Password checks run at a time in one process: each argon2 verification takes about 19 MiB
/// and a CPU for tens of milliseconds, so a burst of logins (hundreds of clients reconnecting
/// at once) queues here instead of exhausting memory.
fn checks() -> &'static tokio::sync::Semaphore {
    static S: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cpus.clamp(2, 16))
    })
}

/// Checks `user` and `pass`. A failure returns `Ok(None)` once its delay has passed.
pub async fn login(
    ctx: &Ctx,
    peer: SocketAddr,
    user: &str,
    pass: &str,
) -> Result<Option<Login>, Unavailable> {
    if user.is_empty() || user.len() > MAX_CREDENTIAL || pass.len() > MAX_CREDENTIAL {
        tokio::time::sleep(intake::AUTH_DELAY_BASE).await;
        return Ok(None);
    }
    let (addr, user, pass) = (peer.ip().to_string(), user.to_string(), pass.to_string());
    let permit = checks().acquire().await.map_err(|_| Unavailable)?;
    let outcome = ctx
        .db
        .with_store("login", move |store| {
            intake::authenticate(store, &addr, &user, &pass)
        })
        .await;
    drop(permit);
    match outcome? {
        AuthOutcome::Success { account_id, login } => Ok(Some(Login { account_id, login })),
        AuthOutcome::Failure { delay } => {
            tokio::time::sleep(delay).await;
            Ok(None)
        }
    }
}

/// Decodes base64 (whitespace refused); `None` when it is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim_end_matches(['\r', '\n']))
        .ok()
}

pub fn base64_encode(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// The credentials of a SASL PLAIN message (RFC 4616): `authzid NUL authcid NUL passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plain {
    /// Who to act as; empty, or the same as `user` (nothing else is allowed).
    pub authzid: String,
    pub user: String,
    pub pass: String,
}

/// Parses a decoded SASL PLAIN message; `None` when malformed.
pub fn sasl_plain(msg: &[u8]) -> Option<Plain> {
    let mut it = msg.split(|b| *b == 0);
    let (z, u, p) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || u.is_empty() {
        return None;
    }
    let s = |b: &[u8]| String::from_utf8(b.to_vec()).ok();
    Some(Plain {
        authzid: s(z)?,
        user: s(u)?,
        pass: s(p)?,
    })
}

/// Whether a SASL PLAIN authorization identity may be used with this login: none, or the
/// same account.
pub fn authzid_allowed(p: &Plain) -> bool {
    p.authzid.is_empty() || p.authzid.eq_ignore_ascii_case(&p.user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_messages() {
        let p = sasl_plain(b"\0jdoe@acme.com\0secret").unwrap();
        assert_eq!(p.user, "jdoe@acme.com");
        assert_eq!(p.pass, "secret");
        assert!(authzid_allowed(&p));
        let p = sasl_plain(b"admin\0jdoe\0x").unwrap();
        assert!(!authzid_allowed(&p));
        assert!(sasl_plain(b"jdoe\0secret").is_none());
        assert!(sasl_plain(b"\0\0secret").is_none());
        assert!(sasl_plain(b"a\0b\0c\0d").is_none());
        assert!(sasl_plain(b"\0\xff\0x").is_none());
        assert_eq!(
            base64_decode(&base64_encode(b"\0u\0p")).as_deref(),
            Some(&b"\0u\0p"[..])
        );
        assert!(base64_decode("not base64!").is_none());
    }
}
