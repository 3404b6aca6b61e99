//! Topology and system tables: settings, nodes, domains, communities, routes, rewriting rules,
//! TLS identities and the directory change log.

use chrono::{DateTime, Utc};

use super::{q, Conn, Row, StoreError};
use crate::binds;

pub fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

// ------------------------------------------------------------------ settings

pub fn setting(c: &mut Conn, name: &str) -> Result<Option<String>, StoreError> {
    Ok(
        c.query_opt(&q::SETTING_GET, &binds!["setting_name" => name])?
            .and_then(|r| r.opt_str(0).ok().flatten()),
    )
}

pub fn put_setting(c: &mut Conn, name: &str, value: &str) -> Result<(), StoreError> {
    c.execute(
        &q::SETTING_PUT,
        &binds!["setting_name" => name, "setting_value" => value],
    )?;
    Ok(())
}

pub const LOCAL_NODE: &str = "local_node_id";
pub const ORAPOST: &str = "orapost_address";
pub const DEFAULT_QUOTA: &str = "default_quota_bytes";
pub const DEFAULT_DOMAIN: &str = "default_domain";

/// The node this store belongs to; `None` before `esmail init`.
pub fn local_node_id(c: &mut Conn) -> Result<Option<i64>, StoreError> {
    Ok(setting(c, LOCAL_NODE)?.and_then(|s| s.parse().ok()))
}

// ------------------------------------------------------------------ nodes

#[derive(Debug, Clone, Default)]
pub struct Node {
    pub node_id: i64,
    pub guid: String,
    pub name: String,
    pub host: Option<String>,
    pub is_scn: bool,
    pub sponsor: Option<String>,
    pub sponsor_node_id: Option<i64>,
    pub cost: i64,
    pub description: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

fn node_row(r: &Row) -> Result<Node, StoreError> {
    Ok(Node {
        node_id: r.i64(0)?,
        guid: r.str(1)?,
        name: r.str(2)?,
        host: r.opt_str(3)?,
        is_scn: r.i64(4)? == 1,
        sponsor: r.opt_str(5)?,
        sponsor_node_id: None,
        cost: r.i64(6)?,
        description: r.opt_str(7)?,
        created_at: r.opt_time(8)?,
    })
}

pub fn insert_node(c: &mut Conn, n: &Node, now: DateTime<Utc>) -> Result<i64, StoreError> {
    c.insert_returning(
        &q::NODE_INSERT,
        &binds![
            "guid" => &n.guid, "node_name" => &n.name, "host_name" => n.host.clone(),
            "is_scn" => n.is_scn, "sponsor_node_id" => n.sponsor_node_id, "node_cost" => n.cost,
            "description" => n.description.clone(), "created_at" => now,
        ],
        "node_id",
    )
}

pub fn nodes(c: &mut Conn, node_id: i64) -> Result<Vec<Node>, StoreError> {
    c.query(&q::NODE_LIST, &binds!["node_id" => node_id])?
        .iter()
        .map(node_row)
        .collect()
}

pub fn node_by_name(c: &mut Conn, name: &str) -> Result<Option<Node>, StoreError> {
    c.query_opt(&q::NODE_BY_NAME, &binds!["node_name" => name])?
        .as_ref()
        .map(node_row)
        .transpose()
}

pub fn update_node(c: &mut Conn, n: &Node) -> Result<(), StoreError> {
    c.execute(
        &q::NODE_UPDATE,
        &binds![
            "host_name" => n.host.clone(), "is_scn" => n.is_scn,
            "sponsor_node_id" => n.sponsor_node_id, "node_cost" => n.cost,
            "description" => n.description.clone(), "node_id" => n.node_id,
        ],
    )?;
    Ok(())
}

/// What still uses a node: `(kind, name)` pairs, and the number of accounts homed on it.
pub fn node_usage(c: &mut Conn, node_id: i64) -> Result<(Vec<(String, String)>, i64), StoreError> {
    let uses = c
        .query(&q::NODE_USAGE, &binds!["node_id" => node_id])?
        .iter()
        .map(|r| Ok((r.str(0)?, r.str(1)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let accounts = c
        .query_opt(&q::NODE_ACCOUNT_COUNT, &binds!["node_id" => node_id])?
        .map(|r| r.i64(0))
        .transpose()?
        .unwrap_or(0);
    Ok((uses, accounts))
}

pub fn delete_node(c: &mut Conn, node_id: i64) -> Result<(), StoreError> {
    c.execute(&q::NODE_DOMAIN_DELETE_NODE, &binds!["node_id" => node_id])?;
    c.execute(
        &q::COMMUNITY_NODE_DELETE_NODE,
        &binds!["node_id" => node_id],
    )?;
    c.execute(&q::NODE_DELETE, &binds!["node_id" => node_id])?;
    Ok(())
}

// ------------------------------------------------------------------ domains

#[derive(Debug, Clone, Default)]
pub struct Domain {
    pub domain_id: i64,
    pub guid: String,
    pub name: String,
    pub parent: Option<String>,
    pub dcn: String,
    pub description: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub dcn_node_id: i64,
    pub parent_domain_id: Option<i64>,
}

fn domain_row(r: &Row) -> Result<Domain, StoreError> {
    Ok(Domain {
        domain_id: r.i64(0)?,
        guid: r.str(1)?,
        name: r.str(2)?,
        parent: r.opt_str(3)?,
        dcn: r.str(4)?,
        description: r.opt_str(5)?,
        created_at: r.opt_time(6)?,
        dcn_node_id: r.i64(7)?,
        parent_domain_id: r.opt_i64(8)?,
    })
}

pub fn insert_domain(c: &mut Conn, d: &Domain, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let id = c.insert_returning(
        &q::DOMAIN_INSERT,
        &binds![
            "guid" => &d.guid, "qualified_name" => &d.name,
            "parent_domain_id" => d.parent_domain_id, "dcn_node_id" => d.dcn_node_id,
            "description" => d.description.clone(), "created_at" => now,
        ],
        "domain_id",
    )?;
    c.execute(
        &q::DOMAIN_ADOPT_CHILDREN,
        &binds![
            "domain_id" => id,
            "suffix_pattern" => format!("%.{}", d.name),
            "old_parent_id" => d.parent_domain_id.unwrap_or(0),
        ],
    )?;
    c.execute(
        &q::NODE_DOMAIN_INSERT,
        &binds!["node_id" => d.dcn_node_id, "domain_id" => id, "subscribed_at" => now],
    )?;
    Ok(id)
}

pub fn domains(c: &mut Conn) -> Result<Vec<Domain>, StoreError> {
    c.query(&q::DOMAIN_LIST, &binds!["domain_id" => 0i64])?
        .iter()
        .map(domain_row)
        .collect()
}

pub fn domain_by_name(c: &mut Conn, name: &str) -> Result<Option<Domain>, StoreError> {
    c.query_opt(&q::DOMAIN_BY_NAME, &binds!["qualified_name" => name])?
        .as_ref()
        .map(domain_row)
        .transpose()
}

pub fn domain_count(c: &mut Conn) -> Result<i64, StoreError> {
    c.query_opt(&q::DOMAIN_COUNT, &[])?
        .map(|r| r.i64(0))
        .transpose()
        .map(|v| v.unwrap_or(0))
}

pub fn update_domain(c: &mut Conn, d: &Domain) -> Result<(), StoreError> {
    c.execute(
        &q::DOMAIN_UPDATE,
        &binds![
            "dcn_node_id" => d.dcn_node_id, "description" => d.description.clone(),
            "parent_domain_id" => d.parent_domain_id, "domain_id" => d.domain_id,
        ],
    )?;
    Ok(())
}

pub fn domain_object_count(c: &mut Conn, domain_id: i64) -> Result<i64, StoreError> {
    c.query_opt(&q::DOMAIN_OBJECT_COUNT, &binds!["domain_id" => domain_id])?
        .map(|r| r.i64(0))
        .transpose()
        .map(|v| v.unwrap_or(0))
}

pub fn delete_domain(c: &mut Conn, d: &Domain) -> Result<(), StoreError> {
    c.execute(
        &q::DOMAIN_REPARENT_CHILDREN,
        &binds!["parent_domain_id" => d.parent_domain_id, "domain_id" => d.domain_id],
    )?;
    c.execute(
        &q::NODE_DOMAIN_DELETE_DOMAIN,
        &binds!["domain_id" => d.domain_id],
    )?;
    c.execute(&q::DOMAIN_DELETE, &binds!["domain_id" => d.domain_id])?;
    Ok(())
}

// ------------------------------------------------------------------ communities and routes

#[derive(Debug, Clone, Default)]
pub struct Community {
    pub community_id: i64,
    pub guid: String,
    pub name: String,
    pub protocol: String,
    pub description: Option<String>,
    pub nodes: Vec<String>,
}

fn community_row(r: &Row) -> Result<Community, StoreError> {
    Ok(Community {
        community_id: r.i64(0)?,
        guid: r.str(1)?,
        name: r.str(2)?,
        protocol: r.str(3)?,
        description: r.opt_str(4)?,
        nodes: Vec::new(),
    })
}

pub fn insert_community(
    c: &mut Conn,
    cm: &Community,
    node_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = c.insert_returning(
        &q::COMMUNITY_INSERT,
        &binds![
            "guid" => &cm.guid, "community_name" => &cm.name, "net_protocol" => &cm.protocol,
            "description" => cm.description.clone(), "created_at" => now,
        ],
        "community_id",
    )?;
    set_community_nodes(c, id, node_ids)?;
    Ok(id)
}

pub fn set_community_nodes(
    c: &mut Conn,
    community_id: i64,
    node_ids: &[i64],
) -> Result<(), StoreError> {
    c.execute(
        &q::COMMUNITY_NODE_DELETE_ALL,
        &binds!["community_id" => community_id],
    )?;
    for n in node_ids {
        c.execute(
            &q::COMMUNITY_NODE_INSERT,
            &binds!["community_id" => community_id, "node_id" => *n],
        )?;
    }
    Ok(())
}

pub fn communities(c: &mut Conn) -> Result<Vec<Community>, StoreError> {
    let mut list: Vec<Community> = c
        .query(&q::COMMUNITY_LIST, &binds!["community_id" => 0i64])?
        .iter()
        .map(community_row)
        .collect::<Result<_, _>>()?;
    for r in c.query(&q::COMMUNITY_NODE_LIST, &[])? {
        let id = r.i64(0)?;
        if let Some(cm) = list.iter_mut().find(|cm| cm.community_id == id) {
            cm.nodes.push(r.str(1)?);
        }
    }
    Ok(list)
}

pub fn community_by_name(c: &mut Conn, name: &str) -> Result<Option<Community>, StoreError> {
    Ok(communities(c)?.into_iter().find(|cm| cm.name == name))
}

pub fn update_community(c: &mut Conn, cm: &Community) -> Result<(), StoreError> {
    c.execute(
        &q::COMMUNITY_UPDATE,
        &binds![
            "net_protocol" => &cm.protocol, "description" => cm.description.clone(),
            "community_id" => cm.community_id,
        ],
    )?;
    Ok(())
}

pub fn community_route_count(c: &mut Conn, community_id: i64) -> Result<i64, StoreError> {
    c.query_opt(
        &q::ROUTE_COUNT_COMMUNITY,
        &binds!["community_id" => community_id],
    )?
    .map(|r| r.i64(0))
    .transpose()
    .map(|v| v.unwrap_or(0))
}

pub fn delete_community(c: &mut Conn, community_id: i64) -> Result<(), StoreError> {
    c.execute(
        &q::COMMUNITY_NODE_DELETE_ALL,
        &binds!["community_id" => community_id],
    )?;
    c.execute(
        &q::COMMUNITY_DELETE,
        &binds!["community_id" => community_id],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct Route {
    pub route_id: i64,
    pub guid: String,
    pub from: String,
    pub to: String,
    pub via: String,
    pub cost: i64,
}

pub fn insert_route(
    c: &mut Conn,
    guid: &str,
    ids: (i64, i64, i64),
    cost: i64,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    c.insert_returning(
        &q::ROUTE_INSERT,
        &binds![
            "guid" => guid, "from_community_id" => ids.0, "to_community_id" => ids.1,
            "via_community_id" => ids.2, "route_cost" => cost, "created_at" => now,
        ],
        "route_id",
    )
}

pub fn routes(c: &mut Conn) -> Result<Vec<Route>, StoreError> {
    c.query(&q::ROUTE_LIST, &[])?
        .iter()
        .map(|r| {
            Ok(Route {
                route_id: r.i64(0)?,
                guid: r.str(1)?,
                from: r.str(2)?,
                to: r.str(3)?,
                via: r.str(4)?,
                cost: r.i64(5)?,
            })
        })
        .collect()
}

pub fn update_route(c: &mut Conn, route_id: i64, cost: i64) -> Result<(), StoreError> {
    c.execute(
        &q::ROUTE_UPDATE,
        &binds!["route_cost" => cost, "route_id" => route_id],
    )?;
    Ok(())
}

pub fn delete_route(c: &mut Conn, route_id: i64) -> Result<(), StoreError> {
    c.execute(&q::ROUTE_DELETE, &binds!["route_id" => route_id])?;
    Ok(())
}

// ------------------------------------------------------------------ rewriting rules

#[derive(Debug, Clone, Default)]
pub struct RewritingRule {
    pub rule_id: i64,
    pub guid: String,
    pub name: String,
    pub position: i64,
    pub pattern: String,
    pub replacement: String,
    pub description: Option<String>,
    pub enabled: bool,
}

pub fn rewriting_rules(c: &mut Conn) -> Result<Vec<RewritingRule>, StoreError> {
    c.query(&q::REWRITING_RULE_LIST, &[])?
        .iter()
        .map(|r| {
            Ok(RewritingRule {
                rule_id: r.i64(0)?,
                guid: r.str(1)?,
                name: r.str(2)?,
                position: r.i64(3)?,
                pattern: r.str(4)?,
                replacement: r.str(5)?,
                description: r.opt_str(6)?,
                enabled: r.i64(7)? == 1,
            })
        })
        .collect()
}

pub fn insert_rewriting_rule(
    c: &mut Conn,
    rr: &RewritingRule,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    c.insert_returning(
        &q::REWRITING_RULE_INSERT,
        &binds![
            "guid" => &rr.guid, "rule_name" => &rr.name, "rule_pos" => rr.position,
            "pattern" => &rr.pattern, "replacement" => &rr.replacement,
            "description" => rr.description.clone(), "enabled" => rr.enabled, "created_at" => now,
        ],
        "rule_id",
    )
}

pub fn update_rewriting_rule(c: &mut Conn, rr: &RewritingRule) -> Result<(), StoreError> {
    c.execute(
        &q::REWRITING_RULE_UPDATE,
        &binds![
            "rule_pos" => rr.position, "pattern" => &rr.pattern, "replacement" => &rr.replacement,
            "description" => rr.description.clone(), "enabled" => rr.enabled, "rule_id" => rr.rule_id,
        ],
    )?;
    Ok(())
}

pub fn delete_rewriting_rule(c: &mut Conn, rule_id: i64) -> Result<(), StoreError> {
    c.execute(&q::REWRITING_RULE_DELETE, &binds!["rule_id" => rule_id])?;
    Ok(())
}

pub fn max_rewriting_rule_pos(c: &mut Conn) -> Result<i64, StoreError> {
    Ok(c.query_opt(&q::REWRITING_RULE_MAX_POS, &[])?
        .and_then(|r| r.opt_i64(0).ok().flatten())
        .unwrap_or(0))
}

// ------------------------------------------------------------------ TLS identities

#[derive(Debug, Clone)]
pub struct TlsIdentity {
    pub name: String,
    pub cert_pem: String,
    pub key_pem: String,
    pub not_after: Option<DateTime<Utc>>,
}

pub fn insert_tls_identity(
    c: &mut Conn,
    t: &TlsIdentity,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::TLS_IDENTITY_INSERT,
        &binds![
            "identity_name" => &t.name, "cert_pem" => &t.cert_pem, "key_pem" => &t.key_pem,
            "not_after" => t.not_after, "created_at" => now,
        ],
    )?;
    Ok(())
}

pub fn tls_identity(c: &mut Conn, name: &str) -> Result<Option<TlsIdentity>, StoreError> {
    c.query_opt(&q::TLS_IDENTITY_GET, &binds!["identity_name" => name])?
        .map(|r| {
            Ok(TlsIdentity {
                name: r.str(0)?,
                cert_pem: r.str(1)?,
                key_pem: r.str(2)?,
                not_after: r.opt_time(3)?,
            })
        })
        .transpose()
}

// ------------------------------------------------------------------ directory change log

/// One entry of the directory change log.
#[derive(Debug, Clone)]
pub struct DirChange<'a> {
    pub origin_node_id: i64,
    pub operation: &'a str,
    pub object_class: &'a str,
    pub object_guid: &'a str,
    pub domain_guid: Option<&'a str>,
    pub before: Option<String>,
    pub after: Option<String>,
}

pub fn log_dir_change(
    c: &mut Conn,
    ch: &DirChange<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::DIR_CHANGE_INSERT,
        &binds![
            "guid" => new_guid(), "origin_node_id" => ch.origin_node_id,
            "operation" => ch.operation, "object_class" => ch.object_class,
            "object_guid" => ch.object_guid, "domain_guid" => ch.domain_guid.map(str::to_string),
            "before_values" => ch.before.clone(), "after_values" => ch.after.clone(),
            "changed_at" => now,
        ],
    )?;
    Ok(())
}

/// (number of entries, highest sequence) of the change log.
pub fn dir_change_stats(c: &mut Conn) -> Result<(i64, i64), StoreError> {
    let r = c.query_opt(&q::DIR_CHANGE_COUNT, &[])?;
    Ok(match r {
        Some(r) => (r.i64(0)?, r.opt_i64(1)?.unwrap_or(0)),
        None => (0, 0),
    })
}
