//! The topology: domains, nodes, communities and message delivery routes, and the gateway's
//! rewriting rules.

use super::address::check_domain;
use super::error::{invalid, DirError, Result};
use super::{filter_entries, parse_bool, parse_int, Args, Class, Ctx, Entry, Outcome};
use crate::store::system::{self, Community, Domain, Node, RewritingRule};
use crate::store::{Conn, StoreError};

const DOMAIN_ATTRS: &[&str] = &["qualifiedname", "node", "description"];
const NODE_ATTRS: &[&str] = &["name", "host", "cost", "scn", "sponsor", "description"];
const COMMUNITY_ATTRS: &[&str] = &["name", "protocol", "nodes", "description"];
const ROUTE_ATTRS: &[&str] = &["from", "to", "via", "cost"];
const RULE_ATTRS: &[&str] = &[
    "name",
    "position",
    "pattern",
    "replacement",
    "description",
    "enabled",
];
const MAX_PATTERN: usize = 1000;

fn known(class: Class) -> &'static [&'static str] {
    match class {
        Class::Domain => DOMAIN_ATTRS,
        Class::Node => NODE_ATTRS,
        Class::Community => COMMUNITY_ATTRS,
        Class::Route => ROUTE_ATTRS,
        _ => RULE_ATTRS,
    }
}

fn simple_name(what: &str, v: &str) -> Result<String> {
    let n = v.trim().to_ascii_lowercase();
    if n.is_empty()
        || n.len() > 64
        || !n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return invalid(format!(
            "{what} name {v:?}: use 1 to 64 letters, digits, '-', '_' or '.'"
        ));
    }
    Ok(n)
}

fn text(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

fn node_named(c: &mut Conn, name: &str) -> Result<Node> {
    let n = simple_name("node", name)?;
    system::node_by_name(c, &n)?.ok_or_else(|| DirError::NotFound(format!("no node {n}")))
}

fn domain_named(c: &mut Conn, name: &str) -> Result<Domain> {
    let d = check_domain(name)?;
    system::domain_by_name(c, &d)?.ok_or_else(|| DirError::NotFound(format!("no domain {d}")))
}

fn community_named(c: &mut Conn, name: &str) -> Result<Community> {
    let n = simple_name("community", name)?;
    system::community_by_name(c, &n)?.ok_or_else(|| DirError::NotFound(format!("no community {n}")))
}

fn conflict(e: StoreError, what: String) -> DirError {
    match e {
        StoreError::Unique(_) => DirError::Conflict(format!("{what} already exists")),
        e => DirError::Store(e),
    }
}

fn log(
    c: &mut Conn,
    ctx: &Ctx,
    op: &str,
    class: &str,
    guid: &str,
    before: Option<&Entry>,
    after: Option<&Entry>,
) -> Result<()> {
    let json = |e: &Entry| {
        let m: serde_json::Map<String, serde_json::Value> = e
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::Value::Object(m).to_string()
    };
    system::log_dir_change(
        c,
        &system::DirChange {
            origin_node_id: ctx.node_id,
            operation: op,
            object_class: class,
            object_guid: guid,
            domain_guid: None,
            before: before.map(json),
            after: after.map(json),
        },
        ctx.now,
    )?;
    Ok(())
}

// ------------------------------------------------------------------ entries

fn domain_entry(d: &Domain) -> Entry {
    let mut e = vec![("qualifiedname".into(), d.name.clone())];
    if let Some(p) = &d.parent {
        e.push(("parent".into(), p.clone()));
    }
    e.push(("node".into(), d.dcn.clone()));
    if let Some(x) = &d.description {
        e.push(("description".into(), x.clone()));
    }
    e
}

fn node_entry(n: &Node, communities: &[Community]) -> Entry {
    let mut e = vec![("name".into(), n.name.clone())];
    if let Some(h) = &n.host {
        e.push(("host".into(), h.clone()));
    }
    e.push(("cost".into(), n.cost.to_string()));
    e.push(("scn".into(), if n.is_scn { "yes" } else { "no" }.into()));
    if let Some(s) = &n.sponsor {
        e.push(("sponsor".into(), s.clone()));
    }
    let cm: Vec<&str> = communities
        .iter()
        .filter(|c| c.nodes.contains(&n.name))
        .map(|c| c.name.as_str())
        .collect();
    if !cm.is_empty() {
        e.push(("communities".into(), cm.join(",")));
    }
    if let Some(x) = &n.description {
        e.push(("description".into(), x.clone()));
    }
    e
}

fn community_entry(cm: &Community) -> Entry {
    let mut e = vec![
        ("name".into(), cm.name.clone()),
        ("protocol".into(), cm.protocol.clone()),
        ("nodes".into(), cm.nodes.join(",")),
    ];
    if let Some(x) = &cm.description {
        e.push(("description".into(), x.clone()));
    }
    e
}

fn route_entry(r: &system::Route) -> Entry {
    vec![
        ("from".into(), r.from.clone()),
        ("to".into(), r.to.clone()),
        ("via".into(), r.via.clone()),
        ("cost".into(), r.cost.to_string()),
    ]
}

fn rule_entry(r: &RewritingRule) -> Entry {
    let mut e = vec![
        ("name".into(), r.name.clone()),
        ("position".into(), r.position.to_string()),
        ("pattern".into(), r.pattern.clone()),
        ("replacement".into(), r.replacement.clone()),
        (
            "enabled".into(),
            if r.enabled { "yes" } else { "no" }.into(),
        ),
    ];
    if let Some(x) = &r.description {
        e.push(("description".into(), x.clone()));
    }
    e
}

fn check_pattern(p: &str) -> Result<()> {
    if p.is_empty() || p.len() > MAX_PATTERN {
        return invalid(format!("pattern: 1 to {MAX_PATTERN} characters"));
    }
    regex::RegexBuilder::new(p)
        .size_limit(1 << 20)
        .build()
        .map(|_| ())
        .map_err(|e| {
            DirError::Invalid(format!(
                "pattern {p:?} is not a valid regular expression: {e}"
            ))
        })
}

fn node_ids(c: &mut Conn, list: &str) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for n in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let id = node_named(c, n)?.node_id;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The community triple of a route, from `from=`, `to=` and `via=` (default: `to`).
fn route_ids(c: &mut Conn, args: &mut Args) -> Result<((i64, i64, i64), String)> {
    let from = args.require(&["from"], "route")?;
    let to = args.require(&["to"], "route")?;
    let via = args.take(&["via"]).unwrap_or_else(|| to.clone());
    let f = community_named(c, &from)?;
    let t = community_named(c, &to)?;
    let v = community_named(c, &via)?;
    Ok((
        (f.community_id, t.community_id, v.community_id),
        format!("route {} -> {} via {}", f.name, t.name, v.name),
    ))
}

fn find_route(c: &mut Conn, args: &mut Args) -> Result<(system::Route, String)> {
    let (_, label) = route_ids(c, args)?;
    let parts: Vec<&str> = label.split(' ').collect();
    let (f, t, v) = (parts[1], parts[3], parts[5]);
    system::routes(c)?
        .into_iter()
        .find(|r| r.from == f && r.to == t && r.via == v)
        .map(|r| (r, label.clone()))
        .ok_or_else(|| DirError::NotFound(format!("no {label}")))
}

// ------------------------------------------------------------------ operations

pub fn create(c: &mut Conn, ctx: &Ctx, class: Class, mut args: Args) -> Result<Outcome> {
    let message = match class {
        Class::Domain => {
            let name = check_domain(&args.require(&["qualifiedname", "name"], "domain")?)?;
            let dcn = match args.take(&["node"]) {
                Some(n) => node_named(c, &n)?,
                None => system::nodes(c, ctx.node_id)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| DirError::NotFound("the local node is missing".into()))?,
            };
            let description = text(args.take(&["description"]));
            args.finish("domain", DOMAIN_ATTRS)?;
            // the parent is the nearest existing ancestor
            let mut parent = None;
            let mut rest = name.as_str();
            while let Some((_, up)) = rest.split_once('.') {
                if let Some(p) = system::domain_by_name(c, up)? {
                    parent = Some(p);
                    break;
                }
                rest = up;
            }
            let d = Domain {
                guid: system::new_guid(),
                name: name.clone(),
                dcn_node_id: dcn.node_id,
                parent_domain_id: parent.as_ref().map(|p| p.domain_id),
                description,
                ..Default::default()
            };
            system::insert_domain(c, &d, ctx.now)
                .map_err(|e| conflict(e, format!("domain {name}")))?;
            let stored = system::domain_by_name(c, &name)?.expect("just inserted");
            log(
                c,
                ctx,
                "CREATE",
                "DOMAIN",
                &d.guid,
                None,
                Some(&domain_entry(&stored)),
            )?;
            format!("created domain {name}")
        }
        Class::Node => {
            let name = simple_name("node", &args.require(&["name"], "node")?)?;
            let mut n = Node {
                guid: system::new_guid(),
                name: name.clone(),
                cost: 1,
                ..Default::default()
            };
            apply_node(c, &mut args, &mut n)?;
            args.finish("node", NODE_ATTRS)?;
            if n.is_scn {
                return invalid("there is one system configuration node; move it with modify node name=... scn=yes");
            }
            system::insert_node(c, &n, ctx.now).map_err(|e| conflict(e, format!("node {name}")))?;
            let stored = system::node_by_name(c, &name)?.expect("just inserted");
            log(
                c,
                ctx,
                "CREATE",
                "NODE",
                &n.guid,
                None,
                Some(&node_entry(&stored, &[])),
            )?;
            format!("created node {name}")
        }
        Class::Community => {
            let name = simple_name("community", &args.require(&["name"], "community")?)?;
            let protocol = args.take(&["protocol"]).unwrap_or_else(|| "TCP/IP".into());
            let nodes = match args.take(&["nodes"]) {
                Some(l) => node_ids(c, &l)?,
                None => Vec::new(),
            };
            let cm = Community {
                guid: system::new_guid(),
                name: name.clone(),
                protocol,
                description: text(args.take(&["description"])),
                nodes: Vec::new(),
                community_id: 0,
            };
            args.finish("community", COMMUNITY_ATTRS)?;
            system::insert_community(c, &cm, &nodes, ctx.now)
                .map_err(|e| conflict(e, format!("community {name}")))?;
            let stored = community_named(c, &name)?;
            log(
                c,
                ctx,
                "CREATE",
                "COMMUNITY",
                &cm.guid,
                None,
                Some(&community_entry(&stored)),
            )?;
            format!("created community {name}")
        }
        Class::Route => {
            let (ids, label) = route_ids(c, &mut args)?;
            let cost = match args.take(&["cost"]) {
                Some(v) => parse_int("cost", &v, 0)?,
                None => 1,
            };
            args.finish("route", ROUTE_ATTRS)?;
            let guid = system::new_guid();
            system::insert_route(c, &guid, ids, cost, ctx.now)
                .map_err(|e| conflict(e, label.clone()))?;
            log(c, ctx, "CREATE", "ROUTE", &guid, None, None)?;
            format!("created {label}")
        }
        _ => {
            let name = simple_name("rewriting rule", &args.require(&["name"], "rewritingrule")?)?;
            let pattern = args.require(&["pattern"], "rewritingrule")?;
            check_pattern(&pattern)?;
            let replacement = args.take(&["replacement"]).unwrap_or_default();
            let position = match args.take(&["position"]) {
                Some(v) => parse_int("position", &v, 0)?,
                None => system::max_rewriting_rule_pos(c)? + 10,
            };
            let enabled = match args.take(&["enabled"]) {
                Some(v) => parse_bool("enabled", &v)?,
                None => true,
            };
            let rr = RewritingRule {
                guid: system::new_guid(),
                name: name.clone(),
                position,
                pattern,
                replacement,
                description: text(args.take(&["description"])),
                enabled,
                rule_id: 0,
            };
            args.finish("rewritingrule", RULE_ATTRS)?;
            system::insert_rewriting_rule(c, &rr, ctx.now)
                .map_err(|e| conflict(e, format!("rewriting rule {name}")))?;
            log(
                c,
                ctx,
                "CREATE",
                "REWRITINGRULE",
                &rr.guid,
                None,
                Some(&rule_entry(&rr)),
            )?;
            format!("created rewriting rule {name}")
        }
    };
    Ok(Outcome { message })
}

fn apply_node(c: &mut Conn, args: &mut Args, n: &mut Node) -> Result<bool> {
    let mut changed = false;
    if let Some(h) = args.take(&["host"]) {
        n.host = text(Some(h));
        changed = true;
    }
    if let Some(v) = args.take(&["cost"]) {
        n.cost = parse_int("cost", &v, 0)?;
        changed = true;
    }
    if let Some(v) = args.take(&["scn"]) {
        n.is_scn = parse_bool("scn", &v)?;
        changed = true;
    }
    if let Some(s) = args.take(&["sponsor"]) {
        n.sponsor_node_id = if s.is_empty() {
            None
        } else {
            Some(node_named(c, &s)?.node_id)
        };
        changed = true;
    }
    if let Some(d) = args.take(&["description"]) {
        n.description = text(Some(d));
        changed = true;
    }
    Ok(changed)
}

pub fn modify(c: &mut Conn, ctx: &Ctx, class: Class, mut args: Args) -> Result<Outcome> {
    let message = match class {
        Class::Domain => {
            let mut d = domain_named(c, &args.require(&["qualifiedname", "name"], "domain")?)?;
            let before = domain_entry(&d);
            let mut changed = false;
            if let Some(n) = args.take(&["node"]) {
                d.dcn_node_id = node_named(c, &n)?.node_id;
                changed = true;
            }
            if let Some(x) = args.take(&["description"]) {
                d.description = text(Some(x));
                changed = true;
            }
            args.finish("domain", DOMAIN_ATTRS)?;
            if !changed {
                return invalid("modify domain names nothing to change (node, description)");
            }
            system::update_domain(c, &d)?;
            let after = domain_entry(&domain_named(c, &d.name)?);
            log(
                c,
                ctx,
                "MODIFY",
                "DOMAIN",
                &d.guid,
                Some(&before),
                Some(&after),
            )?;
            format!("modified domain {}", d.name)
        }
        Class::Node => {
            let mut n = node_named(c, &args.require(&["name"], "node")?)?;
            let communities = system::communities(c)?;
            let before = node_entry(&n, &communities);
            let was_scn = n.is_scn;
            // the stored sponsor is by name; keep its id
            n.sponsor_node_id = match &n.sponsor {
                Some(s) => Some(node_named(c, s)?.node_id),
                None => None,
            };
            if !apply_node(c, &mut args, &mut n)? {
                args.finish("node", NODE_ATTRS)?;
                return invalid("modify node names nothing to change");
            }
            args.finish("node", NODE_ATTRS)?;
            if was_scn && !n.is_scn {
                return invalid(
                    "the system needs one configuration node: make another node scn=yes instead",
                );
            }
            if n.is_scn && !was_scn {
                for mut other in system::nodes(c, 0)? {
                    if other.is_scn {
                        other.is_scn = false;
                        other.sponsor_node_id = match &other.sponsor {
                            Some(s) => Some(node_named(c, s)?.node_id),
                            None => None,
                        };
                        system::update_node(c, &other)?;
                    }
                }
            }
            system::update_node(c, &n)?;
            let after = node_entry(&node_named(c, &n.name)?, &communities);
            log(
                c,
                ctx,
                "MODIFY",
                "NODE",
                &n.guid,
                Some(&before),
                Some(&after),
            )?;
            format!("modified node {}", n.name)
        }
        Class::Community => {
            let mut cm = community_named(c, &args.require(&["name"], "community")?)?;
            let before = community_entry(&cm);
            let mut changed = false;
            if let Some(p) = args.take(&["protocol"]) {
                if p.trim().is_empty() {
                    return invalid("protocol= cannot be empty");
                }
                cm.protocol = p;
                changed = true;
            }
            if let Some(d) = args.take(&["description"]) {
                cm.description = text(Some(d));
                changed = true;
            }
            if let Some(l) = args.take(&["nodes"]) {
                let ids = node_ids(c, &l)?;
                system::set_community_nodes(c, cm.community_id, &ids)?;
                changed = true;
            }
            args.finish("community", COMMUNITY_ATTRS)?;
            if !changed {
                return invalid("modify community names nothing to change");
            }
            system::update_community(c, &cm)?;
            let after = community_entry(&community_named(c, &cm.name)?);
            log(
                c,
                ctx,
                "MODIFY",
                "COMMUNITY",
                &cm.guid,
                Some(&before),
                Some(&after),
            )?;
            format!("modified community {}", cm.name)
        }
        Class::Route => {
            let (r, label) = find_route(c, &mut args)?;
            let cost = parse_int("cost", &args.require(&["cost"], "modify route")?, 0)?;
            args.finish("route", ROUTE_ATTRS)?;
            system::update_route(c, r.route_id, cost)?;
            log(
                c,
                ctx,
                "MODIFY",
                "ROUTE",
                &r.guid,
                Some(&route_entry(&r)),
                None,
            )?;
            format!("modified {label}")
        }
        _ => {
            let name = simple_name("rewriting rule", &args.require(&["name"], "rewritingrule")?)?;
            let mut rr = system::rewriting_rules(c)?
                .into_iter()
                .find(|r| r.name == name)
                .ok_or_else(|| DirError::NotFound(format!("no rewriting rule {name}")))?;
            let before = rule_entry(&rr);
            let mut changed = false;
            if let Some(p) = args.take(&["pattern"]) {
                check_pattern(&p)?;
                rr.pattern = p;
                changed = true;
            }
            if let Some(p) = args.take(&["replacement"]) {
                rr.replacement = p;
                changed = true;
            }
            if let Some(p) = args.take(&["position"]) {
                rr.position = parse_int("position", &p, 0)?;
                changed = true;
            }
            if let Some(p) = args.take(&["enabled"]) {
                rr.enabled = parse_bool("enabled", &p)?;
                changed = true;
            }
            if let Some(d) = args.take(&["description"]) {
                rr.description = text(Some(d));
                changed = true;
            }
            args.finish("rewritingrule", RULE_ATTRS)?;
            if !changed {
                return invalid("modify rewritingrule names nothing to change");
            }
            system::update_rewriting_rule(c, &rr)?;
            log(
                c,
                ctx,
                "MODIFY",
                "REWRITINGRULE",
                &rr.guid,
                Some(&before),
                Some(&rule_entry(&rr)),
            )?;
            format!("modified rewriting rule {name}")
        }
    };
    Ok(Outcome { message })
}

pub fn delete(c: &mut Conn, ctx: &Ctx, class: Class, mut args: Args) -> Result<Outcome> {
    let message = match class {
        Class::Domain => {
            let d = domain_named(c, &args.require(&["qualifiedname", "name"], "domain")?)?;
            args.finish("domain", &["qualifiedname"])?;
            let n = system::domain_object_count(c, d.domain_id)?;
            if n > 0 {
                return Err(DirError::Conflict(format!(
                    "domain {} still holds {n} directory objects; delete them first",
                    d.name
                )));
            }
            if system::domain_count(c)? == 1 {
                return Err(DirError::Conflict(format!(
                    "domain {} is the last domain of the system",
                    d.name
                )));
            }
            let before = domain_entry(&d);
            system::delete_domain(c, &d)?;
            log(c, ctx, "DELETE", "DOMAIN", &d.guid, Some(&before), None)?;
            format!("deleted domain {}", d.name)
        }
        Class::Node => {
            let n = node_named(c, &args.require(&["name"], "node")?)?;
            args.finish("node", &["name"])?;
            if n.node_id == ctx.node_id {
                return Err(DirError::Conflict(format!(
                    "node {} is this store's own node",
                    n.name
                )));
            }
            if n.is_scn {
                return Err(DirError::Conflict(format!(
                    "node {} is the system configuration node",
                    n.name
                )));
            }
            let (uses, accounts) = system::node_usage(c, n.node_id)?;
            if !uses.is_empty() || accounts > 0 {
                let mut what: Vec<String> = uses.iter().map(|(k, v)| format!("{k} {v}")).collect();
                if accounts > 0 {
                    what.push(format!("{accounts} accounts"));
                }
                return Err(DirError::Conflict(format!(
                    "node {} is still used by {}",
                    n.name,
                    what.join(", ")
                )));
            }
            let before = node_entry(&n, &[]);
            system::delete_node(c, n.node_id)?;
            log(c, ctx, "DELETE", "NODE", &n.guid, Some(&before), None)?;
            format!("deleted node {}", n.name)
        }
        Class::Community => {
            let cm = community_named(c, &args.require(&["name"], "community")?)?;
            args.finish("community", &["name"])?;
            let routes = system::community_route_count(c, cm.community_id)?;
            if routes > 0 {
                return Err(DirError::Conflict(format!(
                    "community {} is still used by {routes} routes",
                    cm.name
                )));
            }
            let before = community_entry(&cm);
            system::delete_community(c, cm.community_id)?;
            log(c, ctx, "DELETE", "COMMUNITY", &cm.guid, Some(&before), None)?;
            format!("deleted community {}", cm.name)
        }
        Class::Route => {
            let (r, label) = find_route(c, &mut args)?;
            args.finish("route", &["from", "to", "via"])?;
            system::delete_route(c, r.route_id)?;
            log(
                c,
                ctx,
                "DELETE",
                "ROUTE",
                &r.guid,
                Some(&route_entry(&r)),
                None,
            )?;
            format!("deleted {label}")
        }
        _ => {
            let name = simple_name("rewriting rule", &args.require(&["name"], "rewritingrule")?)?;
            args.finish("rewritingrule", &["name"])?;
            let rr = system::rewriting_rules(c)?
                .into_iter()
                .find(|r| r.name == name)
                .ok_or_else(|| DirError::NotFound(format!("no rewriting rule {name}")))?;
            system::delete_rewriting_rule(c, rr.rule_id)?;
            log(
                c,
                ctx,
                "DELETE",
                "REWRITINGRULE",
                &rr.guid,
                Some(&rule_entry(&rr)),
                None,
            )?;
            format!("deleted rewriting rule {name}")
        }
    };
    Ok(Outcome { message })
}

pub fn fetch(c: &mut Conn, _ctx: &Ctx, class: Class, args: Args) -> Result<Vec<Entry>> {
    let mut filters = args.into_items();
    for (n, v) in filters.iter_mut() {
        if n == "name" && class == Class::Domain {
            *n = "qualifiedname".into();
        }
        if class == Class::Domain && n == "qualifiedname" {
            *v = v.trim_end_matches('.').to_string();
        }
    }
    let entries: Vec<Entry> = match class {
        Class::Domain => system::domains(c)?.iter().map(domain_entry).collect(),
        Class::Node => {
            let cms = system::communities(c)?;
            system::nodes(c, 0)?
                .iter()
                .map(|n| node_entry(n, &cms))
                .collect()
        }
        Class::Community => system::communities(c)?
            .iter()
            .map(community_entry)
            .collect(),
        Class::Route => system::routes(c)?.iter().map(route_entry).collect(),
        _ => system::rewriting_rules(c)?.iter().map(rule_entry).collect(),
    };
    let allowed = known(class);
    for (n, _) in &filters {
        let extra = ["parent", "communities"];
        if !allowed.contains(&n.as_str()) && !extra.contains(&n.as_str()) {
            return invalid(format!(
                "unknown attribute {n} for fetch {} (known: {})",
                class.keyword(),
                allowed.join(", ")
            ));
        }
    }
    Ok(filter_entries(entries, &filters))
}
