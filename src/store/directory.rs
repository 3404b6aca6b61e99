//! Directory tables: objects, their attributes, accounts (with their INBOX), aliases,
//! distribution lists and templates.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{q, Conn, Row, StoreError};
use crate::binds;

/// A directory object's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirObject {
    pub object_id: i64,
    pub guid: String,
    /// The stored class name (`PERSON`, `PUBLICALIAS` ...).
    pub class: String,
    pub name: String,
    pub domain_id: i64,
    /// 0 for public objects; the owning account's object id for private ones.
    pub owner_scope: i64,
    pub domain: String,
}

fn object_row(r: &Row) -> Result<DirObject, StoreError> {
    Ok(DirObject {
        object_id: r.i64(0)?,
        guid: r.str(1)?,
        class: r.str(2)?,
        name: r.str(3)?,
        domain_id: r.i64(4)?,
        owner_scope: r.i64(5)?,
        domain: r.str(6)?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub home_node: String,
    pub home_node_id: i64,
    pub password_hash: Option<String>,
    pub quota_bytes: i64,
    pub used_bytes: i64,
    pub status: String,
    pub password_changed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub target_address: String,
    pub target_object_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub address: String,
    pub object_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// An object with everything stored about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    pub object: DirObject,
    /// Descriptive attributes, by lower-case name.
    pub attrs: Vec<(String, String)>,
    pub account: Option<Account>,
    pub alias: Option<Alias>,
    pub members: Vec<Member>,
    pub template: Option<Template>,
}

pub struct NewObject<'a> {
    pub guid: &'a str,
    pub domain_id: i64,
    pub class: &'a str,
    pub name: &'a str,
    pub name_key: &'a str,
    pub owner_scope: i64,
}

pub fn insert_object(
    c: &mut Conn,
    o: &NewObject<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    c.insert_returning(
        &q::DIR_OBJECT_INSERT,
        &binds![
            "guid" => o.guid, "domain_id" => o.domain_id, "object_class" => o.class,
            "object_name" => o.name, "name_key" => o.name_key, "owner_scope" => o.owner_scope,
            "created_at" => now, "modified_at" => now,
        ],
        "object_id",
    )
}

pub fn find_object(
    c: &mut Conn,
    domain_id: i64,
    owner_scope: i64,
    name_key: &str,
) -> Result<Option<DirObject>, StoreError> {
    c.query_opt(
        &q::DIR_OBJECT_FIND,
        &binds!["domain_id" => domain_id, "owner_scope" => owner_scope, "name_key" => name_key],
    )?
    .as_ref()
    .map(object_row)
    .transpose()
}

pub fn object_by_id(c: &mut Conn, object_id: i64) -> Result<Option<DirObject>, StoreError> {
    c.query_opt(&q::DIR_OBJECT_BY_ID, &binds!["object_id" => object_id])?
        .as_ref()
        .map(object_row)
        .transpose()
}

pub fn touch_object(c: &mut Conn, object_id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    c.execute(
        &q::DIR_OBJECT_TOUCH,
        &binds!["modified_at" => now, "object_id" => object_id],
    )?;
    Ok(())
}

/// Which objects `load` reads.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    /// Every object of a class, in one domain or (domain 0) in all.
    Class { class: &'a str, domain_id: i64 },
    /// One object.
    Object(i64),
}

/// Loads objects with all their parts, in a fixed number of queries whatever their number.
pub fn load(c: &mut Conn, sel: Selection<'_>) -> Result<Vec<Details>, StoreError> {
    let (filter, stmts) = match sel {
        Selection::Class { class, domain_id } => (
            binds!["object_class" => class, "domain_id" => domain_id],
            [
                &q::DIR_OBJECT_LIST,
                &q::DIR_ATTR_LIST,
                &q::ACCOUNT_LIST,
                &q::ALIAS_LIST,
                &q::DL_MEMBER_LIST,
                &q::TEMPLATE_LIST,
            ],
        ),
        Selection::Object(id) => (
            binds!["object_id" => id],
            [
                &q::DIR_OBJECT_BY_ID,
                &q::DIR_ATTR_OF,
                &q::ACCOUNT_OF,
                &q::ALIAS_OF,
                &q::DL_MEMBER_OF,
                &q::TEMPLATE_OF,
            ],
        ),
    };
    let objects: Vec<DirObject> = c
        .query(stmts[0], &filter)?
        .iter()
        .map(object_row)
        .collect::<Result<_, _>>()?;
    let mut index: HashMap<i64, usize> = HashMap::with_capacity(objects.len());
    let mut out: Vec<Details> = Vec::with_capacity(objects.len());
    for (i, o) in objects.into_iter().enumerate() {
        index.insert(o.object_id, i);
        out.push(Details {
            object: o,
            attrs: Vec::new(),
            account: None,
            alias: None,
            members: Vec::new(),
            template: None,
        });
    }
    if out.is_empty() {
        return Ok(out);
    }
    for r in c.query(stmts[1], &filter)? {
        if let Some(&i) = index.get(&r.i64(0)?) {
            out[i].attrs.push((r.str(1)?, r.str(2)?));
        }
    }
    for r in c.query(stmts[2], &filter)? {
        if let Some(&i) = index.get(&r.i64(0)?) {
            out[i].account = Some(Account {
                home_node: r.str(1)?,
                password_hash: r.opt_str(2)?,
                quota_bytes: r.i64(3)?,
                used_bytes: r.i64(4)?,
                status: r.str(5)?,
                home_node_id: r.i64(6)?,
                password_changed_at: r.opt_time(7)?,
            });
        }
    }
    for r in c.query(stmts[3], &filter)? {
        if let Some(&i) = index.get(&r.i64(0)?) {
            out[i].alias = Some(Alias {
                target_address: r.str(1)?,
                target_object_id: r.opt_i64(2)?,
            });
        }
    }
    for r in c.query(stmts[4], &filter)? {
        if let Some(&i) = index.get(&r.i64(0)?) {
            out[i].members.push(Member {
                address: r.str(2)?,
                object_id: r.opt_i64(3)?,
            });
        }
    }
    for r in c.query(stmts[5], &filter)? {
        if let Some(&i) = index.get(&r.i64(0)?) {
            out[i].template = Some(Template {
                subject: r.opt_str(1)?,
                body: r.opt_str(2)?,
            });
        }
    }
    Ok(out)
}

/// Sets (or with `None`, removes) one descriptive attribute.
pub fn set_attr(
    c: &mut Conn,
    object_id: i64,
    name: &str,
    value: Option<(&str, &str)>,
) -> Result<(), StoreError> {
    c.execute(
        &q::DIR_ATTR_DELETE,
        &binds!["object_id" => object_id, "attr_name" => name],
    )?;
    if let Some((value, key)) = value {
        c.execute(
            &q::DIR_ATTR_INSERT,
            &binds!["object_id" => object_id, "attr_name" => name, "attr_value" => value, "value_key" => key],
        )?;
    }
    Ok(())
}

pub fn insert_account(c: &mut Conn, object_id: i64, a: &Account) -> Result<(), StoreError> {
    c.execute(
        &q::ACCOUNT_INSERT,
        &binds![
            "object_id" => object_id, "home_node_id" => a.home_node_id,
            "password_hash" => a.password_hash.clone(), "quota_bytes" => a.quota_bytes,
            "account_status" => &a.status, "password_changed_at" => a.password_changed_at,
        ],
    )?;
    Ok(())
}

pub fn update_account(c: &mut Conn, object_id: i64, a: &Account) -> Result<(), StoreError> {
    c.execute(
        &q::ACCOUNT_UPDATE,
        &binds![
            "home_node_id" => a.home_node_id, "password_hash" => a.password_hash.clone(),
            "quota_bytes" => a.quota_bytes, "account_status" => &a.status,
            "password_changed_at" => a.password_changed_at, "object_id" => object_id,
        ],
    )?;
    Ok(())
}

/// Creates an account's INBOX and subscribes it.
pub fn create_inbox(
    c: &mut Conn,
    account_id: i64,
    domain_id: i64,
    guid: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let uidvalidity = now.timestamp().clamp(1, u32::MAX as i64);
    let id = c.insert_returning(
        &q::FOLDER_INSERT,
        &binds![
            "guid" => guid, "owner_account_id" => account_id, "domain_id" => domain_id,
            "parent_folder_id" => None::<i64>, "folder_path" => "INBOX", "folder_kind" => "PRIVATE",
            "special_use" => None::<String>, "uidvalidity" => uidvalidity, "created_at" => now,
        ],
        "folder_id",
    )?;
    c.execute(
        &q::SUBSCRIPTION_INSERT,
        &binds!["account_id" => account_id, "folder_path" => "INBOX"],
    )?;
    Ok(id)
}

/// An account's folders: (path, number of messages).
pub fn folders(c: &mut Conn, account_id: i64) -> Result<Vec<(String, i64)>, StoreError> {
    c.query(
        &q::FOLDER_LIST_ACCOUNT,
        &binds!["owner_account_id" => account_id],
    )?
    .iter()
    .map(|r| Ok((r.str(1)?, r.i64(2)?)))
    .collect()
}

pub fn insert_alias(c: &mut Conn, object_id: i64, a: &Alias) -> Result<(), StoreError> {
    c.execute(
        &q::ALIAS_INSERT,
        &binds!["object_id" => object_id, "target_address" => &a.target_address, "target_object_id" => a.target_object_id],
    )?;
    Ok(())
}

pub fn update_alias(c: &mut Conn, object_id: i64, a: &Alias) -> Result<(), StoreError> {
    c.execute(
        &q::ALIAS_UPDATE,
        &binds!["target_address" => &a.target_address, "target_object_id" => a.target_object_id, "object_id" => object_id],
    )?;
    Ok(())
}

pub fn alias_target(c: &mut Conn, object_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(
        c.query_opt(&q::ALIAS_TARGET, &binds!["object_id" => object_id])?
            .and_then(|r| r.opt_i64(0).ok().flatten()),
    )
}

pub fn set_members(c: &mut Conn, dl_object_id: i64, members: &[Member]) -> Result<(), StoreError> {
    c.execute(
        &q::DL_MEMBER_DELETE_ALL,
        &binds!["dl_object_id" => dl_object_id],
    )?;
    for (pos, m) in members.iter().enumerate() {
        c.execute(
            &q::DL_MEMBER_INSERT,
            &binds![
                "dl_object_id" => dl_object_id, "member_pos" => pos as i64 + 1,
                "member_address" => &m.address, "member_object_id" => m.object_id,
            ],
        )?;
    }
    Ok(())
}

/// The directory objects a list names as members.
pub fn member_targets(c: &mut Conn, dl_object_id: i64) -> Result<Vec<i64>, StoreError> {
    c.query(
        &q::DL_MEMBER_TARGETS,
        &binds!["dl_object_id" => dl_object_id],
    )?
    .iter()
    .map(|r| r.i64(0))
    .collect()
}

pub fn insert_template(c: &mut Conn, object_id: i64, t: &Template) -> Result<(), StoreError> {
    c.execute(
        &q::TEMPLATE_INSERT,
        &binds!["object_id" => object_id, "subject" => t.subject.clone(), "body_text" => t.body.clone()],
    )?;
    Ok(())
}

pub fn update_template(c: &mut Conn, object_id: i64, t: &Template) -> Result<(), StoreError> {
    c.execute(
        &q::TEMPLATE_UPDATE,
        &binds!["subject" => t.subject.clone(), "body_text" => t.body.clone(), "object_id" => object_id],
    )?;
    Ok(())
}

/// Something that points at an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    pub object_id: i64,
    pub class: String,
    pub name: String,
    pub domain: String,
    /// How it points: `target`, `member`, or the attribute's name.
    pub via: String,
}

/// The aliases whose target is the object and the lists that hold it.
pub fn referrers(c: &mut Conn, object_id: i64) -> Result<Vec<Referrer>, StoreError> {
    let mut out = Vec::new();
    for (stmt, bind, via) in [
        (&q::ALIAS_REFERRERS, "object_id", "target"),
        (&q::DL_MEMBER_REFERRERS, "member_object_id", "member"),
    ] {
        for r in c.query(stmt, &binds![bind => object_id])? {
            out.push(Referrer {
                object_id: r.i64(0)?,
                class: r.str(1)?,
                name: r.str(2)?,
                domain: r.str(3)?,
                via: via.to_string(),
            });
        }
    }
    Ok(out)
}

/// The objects whose attribute `attr` holds `value_key`.
pub fn attr_referrers(
    c: &mut Conn,
    attr: &str,
    value_key: &str,
) -> Result<Vec<Referrer>, StoreError> {
    c.query(
        &q::DIR_ATTR_REFERRERS,
        &binds!["attr_name" => attr, "value_key" => value_key],
    )?
    .iter()
    .map(|r| {
        Ok(Referrer {
            object_id: r.i64(0)?,
            class: r.str(1)?,
            name: r.str(2)?,
            domain: r.str(3)?,
            via: r.str(4)?,
        })
    })
    .collect()
}

pub fn delete_attr_refs(c: &mut Conn, attr: &str, value_key: &str) -> Result<(), StoreError> {
    c.execute(
        &q::DIR_ATTR_DELETE_REFS,
        &binds!["attr_name" => attr, "value_key" => value_key],
    )?;
    Ok(())
}

pub fn remove_from_lists(c: &mut Conn, object_id: i64) -> Result<(), StoreError> {
    c.execute(
        &q::DL_MEMBER_DELETE_OBJECT,
        &binds!["member_object_id" => object_id],
    )?;
    Ok(())
}

/// Private objects owned by an account.
pub fn owned_objects(c: &mut Conn, account_id: i64) -> Result<Vec<i64>, StoreError> {
    c.query(&q::DIR_OBJECT_OWNED, &binds!["owner_scope" => account_id])?
        .iter()
        .map(|r| r.i64(0))
        .collect()
}

/// Deletes an object and what belongs to it alone (attributes, account, folders and their
/// message pointers, alias, list members, template). References to it must be gone already.
pub fn delete_object(c: &mut Conn, object_id: i64, is_account: bool) -> Result<(), StoreError> {
    if is_account {
        c.execute(
            &q::ACCOUNT_RELEASE_MESSAGES,
            &binds!["account_id" => object_id],
        )?;
        c.execute(
            &q::ACCOUNT_DELETE_FOLDERS,
            &binds!["account_id" => object_id],
        )?;
    }
    c.execute(&q::DIR_OBJECT_DELETE, &binds!["object_id" => object_id])?;
    Ok(())
}

/// Objects of a class with a given name, across every domain.
pub fn objects_by_key(
    c: &mut Conn,
    class: &str,
    name_key: &str,
    owner_scope: i64,
) -> Result<Vec<DirObject>, StoreError> {
    c.query(
        &q::DIR_OBJECT_BY_KEY,
        &binds!["object_class" => class, "name_key" => name_key, "owner_scope" => owner_scope],
    )?
    .iter()
    .map(object_row)
    .collect()
}
