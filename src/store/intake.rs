//! What mail intake reads and writes besides the queues: the directory as a recipient or a
//! login sees it, the sender and domain block lists, and authentication failures.

use chrono::{DateTime, Utc};

use super::{q, Conn, StoreError};
use crate::binds;

/// A recipient address as the directory sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientRow {
    /// The domain is not one of the store's domains.
    NotLocal,
    /// A local domain without that name in its public namespace (templates do not count).
    Unknown,
    /// A directory object of that name; `account` when it has a mailbox.
    Object {
        object_id: i64,
        class: String,
        account: Option<AccountState>,
    },
}

/// What intake needs of an account: its status and its quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    /// `ENABLED` or `DISABLED`.
    pub status: String,
    /// 0: no limit.
    pub quota_bytes: i64,
    pub used_bytes: i64,
}

/// Looks a recipient up: `domain` is a lower-case domain name, `name_key` the lower-case local
/// part. Read at each call: no cache.
pub fn recipient(c: &mut Conn, domain: &str, name_key: &str) -> Result<RecipientRow, StoreError> {
    let Some(r) = c.query_opt(
        &q::INTAKE_RECIPIENT,
        &binds!["name_key" => name_key, "domain_name" => domain],
    )?
    else {
        return Ok(RecipientRow::NotLocal);
    };
    let Some(object_id) = r.opt_i64(1)? else {
        return Ok(RecipientRow::Unknown);
    };
    let account = match r.opt_str(3)? {
        Some(status) => Some(AccountState {
            status,
            quota_bytes: r.opt_i64(4)?.unwrap_or(0),
            used_bytes: r.opt_i64(5)?.unwrap_or(0),
        }),
        None => None,
    };
    Ok(RecipientRow::Object {
        object_id,
        class: r.str(2)?,
        account,
    })
}

/// An account that may log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRow {
    pub object_id: i64,
    pub password_hash: Option<String>,
    pub status: String,
}

/// The account named by an address (public namespace), if any.
pub fn login(c: &mut Conn, domain: &str, name_key: &str) -> Result<Option<LoginRow>, StoreError> {
    c.query_opt(
        &q::INTAKE_LOGIN,
        &binds!["domain_name" => domain, "name_key" => name_key],
    )?
    .map(|r| {
        Ok(LoginRow {
            object_id: r.i64(0)?,
            password_hash: r.opt_str(1)?,
            status: r.str(2)?,
        })
    })
    .transpose()
}

/// The accounts whose name (in any domain) is `name_key`: a bare user name logs in when
/// exactly one matches.
pub fn login_bare(c: &mut Conn, name_key: &str) -> Result<Vec<LoginRow>, StoreError> {
    c.query(&q::INTAKE_LOGIN_BARE, &binds!["name_key" => name_key])?
        .iter()
        .map(|r| {
            Ok(LoginRow {
                object_id: r.i64(0)?,
                password_hash: r.opt_str(1)?,
                status: r.str(2)?,
            })
        })
        .collect()
}

/// A block-list entry that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockMatch {
    /// `SENDER` or `DOMAIN`.
    pub kind: String,
    pub pattern: String,
    pub reason: Option<String>,
}

/// The block-list entries that match a sender: a SENDER entry whose pattern (`*` matches any
/// run of characters) matches the lower-case address, or a DOMAIN entry naming the sender's
/// domain or a domain above it.
pub fn sender_blocks(
    c: &mut Conn,
    sender_key: &str,
    sender_domain: &str,
) -> Result<Vec<BlockMatch>, StoreError> {
    c.query(
        &q::INTAKE_SENDER_BLOCK,
        &binds!["sender_key" => sender_key, "sender_domain" => sender_domain],
    )?
    .iter()
    .map(|r| {
        Ok(BlockMatch {
            kind: r.str(0)?,
            pattern: r.str(1)?,
            reason: r.opt_str(2)?,
        })
    })
    .collect()
}

/// Recent authentication failures from `remote_addr` (since `since`): `(for this login, for
/// every login)`.
pub fn auth_failures(
    c: &mut Conn,
    remote_addr: &str,
    login: &str,
    since: DateTime<Utc>,
) -> Result<(i64, i64), StoreError> {
    Ok(
        match c.query_opt(
            &q::AUTH_FAILURE_GET,
            &binds!["login_name" => login, "remote_addr" => remote_addr, "since" => since],
        )? {
            Some(r) => (r.opt_i64(0)?.unwrap_or(0), r.opt_i64(1)?.unwrap_or(0)),
            None => (0, 0),
        },
    )
}

/// Counts one more failure for `(remote_addr, login)`; a record whose last failure is older
/// than `stale_before` starts again from one.
pub fn record_auth_failure(
    c: &mut Conn,
    remote_addr: &str,
    login: &str,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::AUTH_FAILURE_PUT,
        &binds![
            "remote_addr" => remote_addr, "login_name" => login,
            "failed_at" => now, "stale_before" => stale_before,
        ],
    )?;
    Ok(())
}

/// Forgets the failures of `(remote_addr, login)` (after a successful login).
pub fn clear_auth_failures(c: &mut Conn, remote_addr: &str, login: &str) -> Result<(), StoreError> {
    c.execute(
        &q::AUTH_FAILURE_DELETE,
        &binds!["remote_addr" => remote_addr, "login_name" => login],
    )?;
    Ok(())
}
