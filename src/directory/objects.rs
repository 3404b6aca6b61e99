//! Directory objects: persons, rooms and equipment (accounts), aliases, distribution lists,
//! locations, organizations, roles and templates, public or private.

use std::collections::{HashMap, HashSet};

use super::address::{check_local, Address};
use super::error::{invalid, DirError, Result};
use super::{filter_entries, parse_int, password, Args, Ctx, Entry, Outcome};
use crate::store::directory::{self as repo, Account, Alias, Details, DirObject, Member, Template};
use crate::store::system::{self, Domain};
use crate::store::{Conn, StoreError};

/// Default mailbox quota when none is given: 100 MiB (0 means no limit).
pub const DEFAULT_QUOTA_BYTES: i64 = 100 * 1024 * 1024;
/// Longest descriptive attribute value (Oracle's VARCHAR2 limit).
pub const MAX_VALUE: usize = 4000;
/// Most members a list may have.
pub const MAX_MEMBERS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectClass {
    Person,
    Room,
    Equipment,
    PublicAlias,
    PrivateAlias,
    PublicDl,
    PrivateDl,
    Location,
    Organization,
    Role,
    PublicTemplate,
    PrivateTemplate,
}

/// What a descriptive attribute may point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ref {
    None,
    /// The address of a person.
    Person,
    /// The name of an object of this class in the same domain.
    Named(ObjectClass),
}

use ObjectClass::*;

const PERSON_ATTRS: &[(&str, Ref)] = &[
    ("firstname", Ref::None),
    ("lastname", Ref::None),
    ("initials", Ref::None),
    ("displayname", Ref::None),
    ("title", Ref::None),
    ("department", Ref::None),
    ("employeenumber", Ref::None),
    ("telephonenumber", Ref::None),
    ("mobile", Ref::None),
    ("fax", Ref::None),
    ("description", Ref::None),
    ("manager", Ref::Person),
    ("organization", Ref::Named(Organization)),
    ("role", Ref::Named(Role)),
    ("location", Ref::Named(Location)),
];
const RESOURCE_ATTRS: &[(&str, Ref)] = &[
    ("description", Ref::None),
    ("capacity", Ref::None),
    ("telephonenumber", Ref::None),
    ("location", Ref::Named(Location)),
];
const PLAIN_ATTRS: &[(&str, Ref)] = &[("description", Ref::None)];

const ACCOUNT_SPECIAL: &[&str] = &["password", "passwordhash", "quota", "homenode", "status"];

impl ObjectClass {
    pub fn parse(word: &str) -> Option<ObjectClass> {
        Some(match word {
            "person" => Person,
            "room" => Room,
            "equipment" => Equipment,
            "publicalias" => PublicAlias,
            "privatealias" => PrivateAlias,
            "publicdl" => PublicDl,
            "privatedl" => PrivateDl,
            "location" => Location,
            "organization" => Organization,
            "role" => Role,
            "publictemplate" => PublicTemplate,
            "privatetemplate" => PrivateTemplate,
            _ => return None,
        })
    }

    pub fn keyword(self) -> &'static str {
        match self {
            Person => "person",
            Room => "room",
            Equipment => "equipment",
            PublicAlias => "publicalias",
            PrivateAlias => "privatealias",
            PublicDl => "publicdl",
            PrivateDl => "privatedl",
            Location => "location",
            Organization => "organization",
            Role => "role",
            PublicTemplate => "publictemplate",
            PrivateTemplate => "privatetemplate",
        }
    }

    /// The class name as stored.
    pub fn stored(self) -> String {
        self.keyword().to_ascii_uppercase()
    }

    fn from_stored(s: &str) -> Option<ObjectClass> {
        ObjectClass::parse(&s.to_ascii_lowercase())
    }

    fn key_attr(self) -> &'static str {
        if self == Person {
            "username"
        } else {
            "name"
        }
    }

    pub fn is_account(self) -> bool {
        matches!(self, Person | Room | Equipment)
    }
    fn is_private(self) -> bool {
        matches!(self, PrivateAlias | PrivateDl | PrivateTemplate)
    }
    fn is_alias(self) -> bool {
        matches!(self, PublicAlias | PrivateAlias)
    }
    fn is_list(self) -> bool {
        matches!(self, PublicDl | PrivateDl)
    }
    fn is_template(self) -> bool {
        matches!(self, PublicTemplate | PrivateTemplate)
    }

    fn text_attrs(self) -> &'static [(&'static str, Ref)] {
        match self {
            Person => PERSON_ATTRS,
            Room | Equipment => RESOURCE_ATTRS,
            _ => PLAIN_ATTRS,
        }
    }

    fn special_attrs(self, modify: bool) -> &'static [&'static str] {
        if self.is_account() {
            ACCOUNT_SPECIAL
        } else if self.is_alias() {
            &["target"]
        } else if self.is_list() {
            if modify {
                &["members", "addmembers", "removemembers"]
            } else {
                &["members"]
            }
        } else if self.is_template() {
            &["subject", "body"]
        } else {
            &[]
        }
    }

    fn known(self, modify: bool) -> Vec<&'static str> {
        let mut k = vec![self.key_attr()];
        k.push(if self.is_private() { "owner" } else { "domain" });
        k.extend(self.text_attrs().iter().map(|(n, _)| *n));
        k.extend(self.special_attrs(modify));
        k
    }
}

// ------------------------------------------------------------------ scope and identity

/// The domain and owner an object lives in, from `domain=` / `owner=`.
struct Scope {
    domain: Domain,
    owner: Option<DirObject>,
}

impl Scope {
    fn owner_scope(&self) -> i64 {
        self.owner.as_ref().map(|o| o.object_id).unwrap_or(0)
    }
}

fn domain_named(c: &mut Conn, name: &str) -> Result<Domain> {
    let d = super::address::check_domain(name)?;
    system::domain_by_name(c, &d)?.ok_or_else(|| DirError::NotFound(format!("no domain {d}")))
}

/// The account named by an address.
fn account_at(c: &mut Conn, address: &str) -> Result<DirObject> {
    let a = Address::parse(address, None)?;
    let d = domain_named(c, &a.domain)?;
    match repo::find_object(c, d.domain_id, 0, &a.local.to_lowercase())? {
        Some(o) if ObjectClass::from_stored(&o.class).is_some_and(|k| k.is_account()) => Ok(o),
        Some(o) => invalid(format!(
            "{a} is a {}, not an account",
            o.class.to_lowercase()
        )),
        None => Err(DirError::NotFound(format!("no account {a}"))),
    }
}

/// Reads `domain=` (or, for private classes, `owner=`). Without `domain=`, the only domain.
fn scope(c: &mut Conn, oc: ObjectClass, args: &mut Args) -> Result<Scope> {
    if oc.is_private() {
        let owner = args.require(&["owner"], oc.keyword())?;
        let owner = account_at(c, &owner)?;
        let domain = domain_named(c, &owner.domain)?;
        if let Some(d) = args.take(&["domain"]) {
            if super::address::check_domain(&d)? != domain.name {
                return invalid(format!(
                    "a {} lives in its owner's domain {}",
                    oc.keyword(),
                    domain.name
                ));
            }
        }
        return Ok(Scope {
            domain,
            owner: Some(owner),
        });
    }
    let domain = match args.take(&["domain"]) {
        Some(d) => domain_named(c, &d)?,
        None => default_domain(c)?,
    };
    Ok(Scope {
        domain,
        owner: None,
    })
}

/// The domain used when a statement names none: the first domain (set by `esmail init`),
/// or, when that is gone, the only domain there is.
pub(crate) fn default_domain(c: &mut Conn) -> Result<Domain> {
    if let Some(name) = system::setting(c, system::DEFAULT_DOMAIN)? {
        if let Some(d) = system::domain_by_name(c, &name)? {
            return Ok(d);
        }
    }
    let all = system::domains(c)?;
    if all.len() != 1 {
        return invalid(format!(
            "give domain=: the store has {} domains ({})",
            all.len(),
            all.iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(all.into_iter().next().expect("one domain"))
}

fn describe(oc: ObjectClass, o: &DirObject) -> String {
    format!("{} {}@{}", oc.keyword(), o.name, o.domain)
}

/// Finds the object a modify or delete names: by its key in the given domain, or, without
/// `domain=`, in the one domain where that name exists.
fn identify(c: &mut Conn, oc: ObjectClass, args: &mut Args) -> Result<DirObject> {
    let key = args.require(&[oc.key_attr()], oc.keyword())?;
    let name_key = key.to_lowercase();
    if oc.is_private() || args.has("domain") {
        let s = scope(c, oc, args)?;
        return find_in(c, oc, &s, &name_key, &key);
    }
    let found = repo::objects_by_key(c, &oc.stored(), &name_key, 0)?;
    match found.len() {
        0 => Err(DirError::NotFound(format!("no {} {key}", oc.keyword()))),
        1 => Ok(found.into_iter().next().expect("one")),
        _ => invalid(format!(
            "{} {key} exists in several domains ({}): give domain=",
            oc.keyword(),
            found
                .iter()
                .map(|o| o.domain.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn find_in(
    c: &mut Conn,
    oc: ObjectClass,
    s: &Scope,
    name_key: &str,
    key: &str,
) -> Result<DirObject> {
    match repo::find_object(c, s.domain.domain_id, s.owner_scope(), name_key)? {
        Some(o) if o.class == oc.stored() => Ok(o),
        Some(o) => Err(DirError::NotFound(format!(
            "no {} {key} in {} ({key}@{} is a {})",
            oc.keyword(),
            s.domain.name,
            s.domain.name,
            o.class.to_lowercase()
        ))),
        None => Err(DirError::NotFound(format!(
            "no {} {key} in {}",
            oc.keyword(),
            s.domain.name
        ))),
    }
}

// ------------------------------------------------------------------ references

/// Resolves an address an alias or list points at. In a local domain it must name an
/// existing object; elsewhere it is an outside address.
fn resolve(c: &mut Conn, text: &str, domain: &str, owner_scope: i64) -> Result<Member> {
    let a = Address::parse(text, Some(domain))?;
    let Some(d) = system::domain_by_name(c, &a.domain)? else {
        return Ok(Member {
            address: a.to_string(),
            object_id: None,
        });
    };
    let key = a.local.to_lowercase();
    if owner_scope != 0 {
        if let Some(o) = repo::find_object(c, d.domain_id, owner_scope, &key)? {
            if o.class == "PRIVATETEMPLATE" {
                return invalid(format!("{text}: {} is a template, not an address", o.name));
            }
            return Ok(Member {
                address: a.to_string(),
                object_id: Some(o.object_id),
            });
        }
    }
    match repo::find_object(c, d.domain_id, 0, &key)? {
        Some(o)
            if matches!(
                ObjectClass::from_stored(&o.class),
                Some(PublicTemplate | PrivateTemplate)
            ) =>
        {
            invalid(format!("{text}: {} is a template, not an address", o.name))
        }
        Some(o) => Ok(Member {
            address: a.to_string(),
            object_id: Some(o.object_id),
        }),
        None => Err(DirError::NotFound(format!(
            "{text}: nothing is named {} in domain {} (a dangling reference)",
            a.local, d.name
        ))),
    }
}

/// The value and comparison key of a descriptive attribute, checking what it refers to.
fn attr_value(
    c: &mut Conn,
    name: &str,
    r: Ref,
    value: &str,
    domain: &Domain,
) -> Result<Option<(String, String)>> {
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > MAX_VALUE {
        return invalid(format!(
            "{name}: the value is longer than {MAX_VALUE} characters"
        ));
    }
    if value.chars().any(|ch| ch.is_control() && ch != '\t') {
        return invalid(format!("{name}: the value holds a control character"));
    }
    match r {
        Ref::None => Ok(Some((value.to_string(), value.to_lowercase()))),
        Ref::Person => {
            let o = account_at(c, value)
                .map_err(|e| DirError::NotFound(format!("{name}={value}: {e}")))?;
            if o.class != "PERSON" {
                return invalid(format!("{name}={value}: not a person"));
            }
            let key = format!("{}@{}", o.name.to_lowercase(), o.domain);
            Ok(Some((format!("{}@{}", o.name, o.domain), key)))
        }
        Ref::Named(class) => {
            let key = value.to_lowercase();
            match repo::find_object(c, domain.domain_id, 0, &key)? {
                Some(o) if o.class == class.stored() => {
                    Ok(Some((o.name.clone(), format!("{key}@{}", domain.name))))
                }
                _ => Err(DirError::NotFound(format!(
                    "{name}={value}: no {} {value} in {}",
                    class.keyword(),
                    domain.name
                ))),
            }
        }
    }
}

/// Refuses a change that makes an alias or list reach itself.
fn check_no_loop(c: &mut Conn, start: &DirObject) -> Result<()> {
    let mut stack: Vec<(i64, Vec<i64>)> = vec![(start.object_id, vec![start.object_id])];
    let mut seen = HashSet::new();
    while let Some((id, path)) = stack.pop() {
        let mut next = repo::member_targets(c, id)?;
        if let Some(t) = repo::alias_target(c, id)? {
            next.push(t);
        }
        for n in next {
            if n == start.object_id {
                let mut names = Vec::new();
                for p in path.iter().chain(std::iter::once(&n)) {
                    if let Some(o) = repo::object_by_id(c, *p)? {
                        names.push(format!("{}@{}", o.name, o.domain));
                    }
                }
                return Err(DirError::Conflict(format!(
                    "a loop: {}",
                    names.join(" -> ")
                )));
            }
            if seen.insert(n) {
                let mut p = path.clone();
                p.push(n);
                stack.push((n, p));
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ accounts

fn default_quota(c: &mut Conn) -> Result<i64> {
    Ok(system::setting(c, system::DEFAULT_QUOTA)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_QUOTA_BYTES))
}

fn parse_quota(v: &str) -> Result<i64> {
    parse_int("quota", v, 0)
}

fn parse_status(v: &str) -> Result<String> {
    match v.to_ascii_lowercase().as_str() {
        "enabled" => Ok("ENABLED".into()),
        "disabled" => Ok("DISABLED".into()),
        _ => invalid(format!("status={v:?}: expected enabled or disabled")),
    }
}

fn node_id_named(c: &mut Conn, name: &str) -> Result<i64> {
    system::node_by_name(c, &name.to_ascii_lowercase())?
        .map(|n| n.node_id)
        .ok_or_else(|| DirError::NotFound(format!("homenode={name}: no node {name}")))
}

/// Applies `password=` / `passwordhash=` / `quota=` / `homenode=` / `status=` to an account.
fn apply_account(c: &mut Conn, ctx: &Ctx, args: &mut Args, a: &mut Account) -> Result<bool> {
    let mut changed = false;
    let pw = args.take(&["password"]);
    let ph = args.take(&["passwordhash"]);
    match (pw, ph) {
        (Some(_), Some(_)) => return invalid("give password= or passwordhash=, not both"),
        (Some(p), None) => {
            a.password_hash = Some(password::hash(&p).map_err(DirError::Invalid)?);
            a.password_changed_at = Some(ctx.now);
            changed = true;
        }
        (None, Some(h)) => {
            password::validate_phc(&h)
                .map_err(|e| DirError::Invalid(format!("passwordhash: {e}")))?;
            a.password_hash = Some(h);
            a.password_changed_at = Some(ctx.now);
            changed = true;
        }
        (None, None) => {}
    }
    if let Some(q) = args.take(&["quota"]) {
        a.quota_bytes = parse_quota(&q)?;
        changed = true;
    }
    if let Some(n) = args.take(&["homenode"]) {
        a.home_node_id = node_id_named(c, &n)?;
        a.home_node = n.to_ascii_lowercase();
        changed = true;
    }
    if let Some(s) = args.take(&["status"]) {
        a.status = parse_status(&s)?;
        changed = true;
    }
    Ok(changed)
}

/// Creates an account's INBOX and its special-use folders (Sent, Drafts, Trash, Junk), all
/// subscribed (used by init for ORAPOST as well).
pub fn create_inbox_for(c: &mut Conn, account_id: i64, domain_id: i64, ctx: &Ctx) -> Result<()> {
    repo::create_inbox(c, account_id, domain_id, &system::new_guid(), ctx.now)?;
    let account = crate::store::mailbox::Account {
        account_id,
        domain_id,
        quota_bytes: 0,
        used_bytes: 0,
        enabled: true,
    };
    crate::store::mailbox::create_new_account_folders(c, &account, ctx.now)?;
    Ok(())
}

// ------------------------------------------------------------------ the four operations

fn parse_list(v: &str) -> Vec<String> {
    v.split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn resolve_members(c: &mut Conn, list: &[String], s: &Scope) -> Result<Vec<Member>> {
    if list.len() > MAX_MEMBERS {
        return invalid(format!("a list holds at most {MAX_MEMBERS} members"));
    }
    let mut out: Vec<Member> = Vec::with_capacity(list.len());
    for m in list {
        let r = resolve(c, m, &s.domain.name, s.owner_scope())?;
        if out
            .iter()
            .any(|x| x.address.to_lowercase() == r.address.to_lowercase())
        {
            return invalid(format!("member {m} is listed twice"));
        }
        out.push(r);
    }
    Ok(out)
}

fn unique_violation(
    c: &mut Conn,
    oc: ObjectClass,
    s: &Scope,
    key: &str,
    e: StoreError,
) -> DirError {
    if let StoreError::Unique(_) = e {
        return DirError::Conflict(format!("{key}@{} is already taken", s.domain.name));
    }
    let _ = (c, oc);
    DirError::Store(e)
}

pub fn create(c: &mut Conn, ctx: &Ctx, oc: ObjectClass, mut args: Args) -> Result<Outcome> {
    let key = args.require(&[oc.key_attr()], oc.keyword())?;
    check_local(&key)?;
    let s = scope(c, oc, &mut args)?;
    let name_key = key.to_lowercase();
    if let Some(o) = repo::find_object(c, s.domain.domain_id, s.owner_scope(), &name_key)? {
        return Err(DirError::Conflict(format!(
            "{key}@{} is already taken by {} {}",
            s.domain.name,
            o.class.to_lowercase(),
            o.name
        )));
    }
    let mut attrs = Vec::new();
    for (name, r) in oc.text_attrs() {
        if let Some(v) = args.take(&[name]) {
            if let Some(val) = attr_value(c, name, *r, &v, &s.domain)? {
                attrs.push((*name, val));
            }
        }
    }
    let account = if oc.is_account() {
        let mut a = Account {
            home_node: String::new(),
            home_node_id: ctx.node_id,
            password_hash: None,
            quota_bytes: default_quota(c)?,
            used_bytes: 0,
            status: "ENABLED".into(),
            password_changed_at: None,
        };
        apply_account(c, ctx, &mut args, &mut a)?;
        Some(a)
    } else {
        None
    };
    let target = if oc.is_alias() {
        Some(args.require(&["target"], oc.keyword())?)
    } else {
        None
    };
    let members = if oc.is_list() {
        args.take(&["members"])
            .map(|m| parse_list(&m))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let template = if oc.is_template() {
        Some(Template {
            subject: args.take(&["subject"]).filter(|v| !v.is_empty()),
            body: args.take(&["body"]).filter(|v| !v.is_empty()),
        })
    } else {
        None
    };
    args.finish(oc.keyword(), &oc.known(false))?;

    let guid = system::new_guid();
    let stored = oc.stored();
    let id = repo::insert_object(
        c,
        &repo::NewObject {
            guid: &guid,
            domain_id: s.domain.domain_id,
            class: &stored,
            name: &key,
            name_key: &name_key,
            owner_scope: s.owner_scope(),
        },
        ctx.now,
    )
    .map_err(|e| unique_violation(c, oc, &s, &key, e))?;
    let obj =
        repo::object_by_id(c, id)?.ok_or_else(|| DirError::NotFound(format!("{key} vanished")))?;
    for (name, (v, k)) in &attrs {
        repo::set_attr(c, id, name, Some((v, k)))?;
    }
    if let Some(a) = &account {
        repo::insert_account(c, id, a)?;
        create_inbox_for(c, id, s.domain.domain_id, ctx)?;
    }
    if let Some(t) = target {
        let m = resolve(c, &t, &s.domain.name, s.owner_scope())?;
        repo::insert_alias(
            c,
            id,
            &Alias {
                target_address: m.address,
                target_object_id: m.object_id,
            },
        )?;
        check_no_loop(c, &obj)?;
    }
    if oc.is_list() {
        let resolved = resolve_members(c, &members, &s)?;
        repo::set_members(c, id, &resolved)?;
        check_no_loop(c, &obj)?;
    }
    if let Some(t) = &template {
        repo::insert_template(c, id, t)?;
    }
    log_change(c, ctx, oc, &obj, "CREATE", None)?;
    Ok(Outcome {
        message: format!("created {}", describe(oc, &obj)),
    })
}

pub fn modify(c: &mut Conn, ctx: &Ctx, oc: ObjectClass, mut args: Args) -> Result<Outcome> {
    let obj = identify(c, oc, &mut args)?;
    let before = load_one(c, oc, &obj)?;
    let domain = domain_named(c, &obj.domain)?;
    let s = Scope {
        domain,
        owner: match obj.owner_scope {
            0 => None,
            id => repo::object_by_id(c, id)?,
        },
    };
    let mut changed = false;
    for (name, r) in oc.text_attrs() {
        if let Some(v) = args.take(&[name]) {
            let val = attr_value(c, name, *r, &v, &s.domain)?;
            repo::set_attr(
                c,
                obj.object_id,
                name,
                val.as_ref().map(|(v, k)| (v.as_str(), k.as_str())),
            )?;
            changed = true;
        }
    }
    if let Some(mut a) = before.account.clone() {
        if apply_account(c, ctx, &mut args, &mut a)? {
            repo::update_account(c, obj.object_id, &a)?;
            changed = true;
        }
    }
    if oc.is_alias() {
        if let Some(t) = args.take(&["target"]) {
            let m = resolve(c, &t, &s.domain.name, s.owner_scope())?;
            repo::update_alias(
                c,
                obj.object_id,
                &Alias {
                    target_address: m.address,
                    target_object_id: m.object_id,
                },
            )?;
            check_no_loop(c, &obj)?;
            changed = true;
        }
    }
    if oc.is_list() {
        let set = args.take(&["members"]);
        let add = args.take(&["addmembers"]);
        let remove = args.take(&["removemembers"]);
        if set.is_some() || add.is_some() || remove.is_some() {
            let mut list: Vec<String> = match set {
                Some(v) => parse_list(&v),
                None => before.members.iter().map(|m| m.address.clone()).collect(),
            };
            if let Some(v) = remove {
                for r in parse_list(&v) {
                    let key = Address::parse(&r, Some(&s.domain.name))?.key();
                    let n = list.len();
                    list.retain(|m| {
                        Address::parse(m, Some(&s.domain.name))
                            .map(|a| a.key() != key)
                            .unwrap_or(true)
                    });
                    if list.len() == n {
                        return invalid(format!("removemembers: {r} is not a member"));
                    }
                }
            }
            if let Some(v) = add {
                list.extend(parse_list(&v));
            }
            let resolved = resolve_members(c, &list, &s)?;
            repo::set_members(c, obj.object_id, &resolved)?;
            check_no_loop(c, &obj)?;
            changed = true;
        }
    }
    if oc.is_template() {
        let subject = args.take(&["subject"]);
        let body = args.take(&["body"]);
        if subject.is_some() || body.is_some() {
            let old = before.template.clone().unwrap_or_default();
            let t = Template {
                subject: subject.or(old.subject).filter(|v| !v.is_empty()),
                body: body.or(old.body).filter(|v| !v.is_empty()),
            };
            repo::update_template(c, obj.object_id, &t)?;
            changed = true;
        }
    }
    args.finish(oc.keyword(), &oc.known(true))?;
    if !changed {
        return invalid(format!("modify {} names nothing to change", oc.keyword()));
    }
    repo::touch_object(c, obj.object_id, ctx.now)?;
    log_change(c, ctx, oc, &obj, "MODIFY", Some(&before))?;
    Ok(Outcome {
        message: format!("modified {}", describe(oc, &obj)),
    })
}

pub fn delete(c: &mut Conn, ctx: &Ctx, oc: ObjectClass, mut args: Args) -> Result<Outcome> {
    let obj = identify(c, oc, &mut args)?;
    let cascade = match args.take(&["cascade"]) {
        Some(v) => super::parse_bool("cascade", &v)?,
        None => false,
    };
    let mut known = oc.known(false);
    known.truncate(2);
    known.push("cascade");
    args.finish(oc.keyword(), &known)?;
    let mut done = HashSet::new();
    let removed = delete_object(c, ctx, &obj, cascade, &mut done)?;
    let mut message = format!("deleted {}", describe(oc, &obj));
    if removed.len() > 1 {
        message.push_str(&format!(" (and {})", removed[1..].join(", ")));
    }
    Ok(Outcome { message })
}

/// All references to an object: aliases, lists, and person attributes.
fn all_referrers(c: &mut Conn, obj: &DirObject) -> Result<Vec<repo::Referrer>> {
    let mut refs = repo::referrers(c, obj.object_id)?;
    let key = format!("{}@{}", obj.name.to_lowercase(), obj.domain);
    let attr = match ObjectClass::from_stored(&obj.class) {
        Some(Person) => Some("manager"),
        Some(Location) => Some("location"),
        Some(Organization) => Some("organization"),
        Some(Role) => Some("role"),
        _ => None,
    };
    if let Some(attr) = attr {
        refs.extend(repo::attr_referrers(c, attr, &key)?);
    }
    refs.retain(|r| r.object_id != obj.object_id);
    Ok(refs)
}

fn delete_object(
    c: &mut Conn,
    ctx: &Ctx,
    obj: &DirObject,
    cascade: bool,
    done: &mut HashSet<i64>,
) -> Result<Vec<String>> {
    if !done.insert(obj.object_id) {
        return Ok(Vec::new());
    }
    let oc = ObjectClass::from_stored(&obj.class)
        .ok_or_else(|| DirError::Invalid(format!("unknown stored class {}", obj.class)))?;
    let mut removed = vec![describe(oc, obj)];
    // private objects belong to their owner and go with it
    if oc.is_account() {
        for id in repo::owned_objects(c, obj.object_id)? {
            if let Some(o) = repo::object_by_id(c, id)? {
                removed.extend(delete_object(c, ctx, &o, true, done)?);
            }
        }
    }
    let refs = all_referrers(c, obj)?;
    if !refs.is_empty() && !cascade {
        let list: Vec<String> = refs
            .iter()
            .map(|r| {
                format!(
                    "{} {}@{} ({})",
                    r.class.to_lowercase(),
                    r.name,
                    r.domain,
                    r.via
                )
            })
            .collect();
        return Err(DirError::Conflict(format!(
            "{} is still referenced by {}; remove those references first or give cascade=yes",
            describe(oc, obj),
            list.join(", ")
        )));
    }
    let key = format!("{}@{}", obj.name.to_lowercase(), obj.domain);
    for r in &refs {
        match r.via.as_str() {
            "target" => {
                if let Some(alias) = repo::object_by_id(c, r.object_id)? {
                    removed.extend(delete_object(c, ctx, &alias, true, done)?);
                }
            }
            "member" => repo::remove_from_lists(c, obj.object_id)?,
            attr => repo::delete_attr_refs(c, attr, &key)?,
        }
    }
    let before = load_one(c, oc, obj)?;
    log_change(c, ctx, oc, obj, "DELETE", Some(&before))?;
    repo::delete_object(c, obj.object_id, oc.is_account())?;
    Ok(removed)
}

pub fn fetch(c: &mut Conn, _ctx: &Ctx, oc: ObjectClass, mut args: Args) -> Result<Vec<Entry>> {
    let key = args.take(&[oc.key_attr()]);
    let domain = args.take(&["domain"]);
    let owner = args.take(&["owner"]);
    if owner.is_some() && !oc.is_private() {
        return invalid(format!(
            "fetch {}: public objects have no owner",
            oc.keyword()
        ));
    }
    let mut known: Vec<&str> = oc
        .known(false)
        .into_iter()
        .filter(|k| !matches!(*k, "password" | "passwordhash" | "domain" | "owner"))
        .collect();
    if oc.is_account() {
        known.extend(["used", "homenode", "status"]);
    }
    if !oc.is_private() && !matches!(oc, Location | Organization | Role) && !oc.is_template() {
        known.push("address");
    }
    for n in args.names() {
        if !known.contains(&n) {
            return invalid(format!(
                "unknown attribute {n} for fetch {} (known: {}, {})",
                oc.keyword(),
                if oc.is_private() { "owner" } else { "domain" },
                known.join(", ")
            ));
        }
    }
    let domain_id = match &domain {
        Some(d) => match system::domain_by_name(c, &super::address::check_domain(d)?)? {
            Some(d) => d.domain_id,
            None => return Ok(Vec::new()),
        },
        None => 0,
    };
    let mut filters = args.into_items();
    if let Some(k) = key {
        filters.push((oc.key_attr().to_string(), k));
    }
    if let Some(o) = owner {
        filters.push(("owner".to_string(), o));
    }
    let details = repo::load(
        c,
        repo::Selection::Class {
            class: &oc.stored(),
            domain_id,
        },
    )?;
    let mut owners: HashMap<i64, String> = HashMap::new();
    let mut entries = Vec::with_capacity(details.len());
    for d in &details {
        entries.push(entry(c, oc, d, &mut owners)?);
    }
    Ok(filter_entries(entries, &filters))
}

fn load_one(c: &mut Conn, oc: ObjectClass, obj: &DirObject) -> Result<Details> {
    repo::load(c, repo::Selection::Object(obj.object_id))?
        .into_iter()
        .next()
        .ok_or_else(|| DirError::NotFound(format!("{} vanished", describe(oc, obj))))
}

/// The object as `fetch` shows it (never a password or its hash).
fn entry(
    c: &mut Conn,
    oc: ObjectClass,
    d: &Details,
    owners: &mut HashMap<i64, String>,
) -> Result<Entry> {
    let o = &d.object;
    let mut e: Entry = vec![(oc.key_attr().into(), o.name.clone())];
    e.push(("domain".into(), o.domain.clone()));
    if o.owner_scope != 0 {
        let owner = match owners.get(&o.owner_scope) {
            Some(a) => a.clone(),
            None => {
                let a = repo::object_by_id(c, o.owner_scope)?
                    .map(|x| format!("{}@{}", x.name, x.domain))
                    .unwrap_or_default();
                owners.insert(o.owner_scope, a.clone());
                a
            }
        };
        e.push(("owner".into(), owner));
    } else if !matches!(oc, Location | Organization | Role) && !oc.is_template() {
        e.push(("address".into(), format!("{}@{}", o.name, o.domain)));
    }
    for (name, _) in oc.text_attrs() {
        if let Some((_, v)) = d.attrs.iter().find(|(n, _)| n == name) {
            e.push(((*name).into(), v.clone()));
        }
    }
    if let Some(a) = &d.account {
        e.push(("quota".into(), a.quota_bytes.to_string()));
        e.push(("used".into(), a.used_bytes.to_string()));
        e.push(("homenode".into(), a.home_node.clone()));
        e.push(("status".into(), a.status.to_lowercase()));
    }
    if let Some(a) = &d.alias {
        e.push(("target".into(), a.target_address.clone()));
    }
    if oc.is_list() {
        let m: Vec<&str> = d.members.iter().map(|m| m.address.as_str()).collect();
        e.push(("members".into(), m.join(",")));
    }
    if let Some(t) = &d.template {
        if let Some(s) = &t.subject {
            e.push(("subject".into(), s.clone()));
        }
        if let Some(b) = &t.body {
            e.push(("body".into(), b.clone()));
        }
    }
    Ok(e)
}

/// Records a change in the directory change log, in the same transaction. The values carry
/// the password hash (a replica needs it) but never a clear password.
fn log_change(
    c: &mut Conn,
    ctx: &Ctx,
    oc: ObjectClass,
    obj: &DirObject,
    op: &str,
    before: Option<&Details>,
) -> Result<()> {
    let mut owners = HashMap::new();
    let to_json =
        |c: &mut Conn, d: &Details, owners: &mut HashMap<i64, String>| -> Result<String> {
            let mut map = serde_json::Map::new();
            for (k, v) in entry(c, oc, d, owners)? {
                map.insert(k, serde_json::Value::String(v));
            }
            if let Some(h) = d.account.as_ref().and_then(|a| a.password_hash.clone()) {
                map.insert("passwordhash".into(), serde_json::Value::String(h));
            }
            Ok(serde_json::Value::Object(map).to_string())
        };
    let before_json = match before {
        Some(d) => Some(to_json(c, d, &mut owners)?),
        None => None,
    };
    let after_json = if op == "DELETE" {
        None
    } else {
        let d = load_one(c, oc, obj)?;
        Some(to_json(c, &d, &mut owners)?)
    };
    let domain = system::domain_by_name(c, &obj.domain)?;
    system::log_dir_change(
        c,
        &system::DirChange {
            origin_node_id: ctx.node_id,
            operation: op,
            object_class: &oc.stored(),
            object_guid: &obj.guid,
            domain_guid: domain.as_ref().map(|d| d.guid.as_str()),
            before: before_json,
            after: after_json,
        },
        ctx.now,
    )?;
    Ok(())
}
