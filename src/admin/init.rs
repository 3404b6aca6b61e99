//! `esmail init` and `esmail upgrade`: create or bring up to date the schema, and on a new
//! store the first node (system and domain configuration node), the first domain, the ORAPOST
//! account, a self-signed TLS certificate and the registered processes.

use super::error::AdminError;
use chrono::Utc;

use crate::directory::{self, Args, Class, Ctx, ObjectClass};
use crate::process;
use crate::store::schema::{self, Defines};
use crate::store::system::{self, Community, Domain, Node, TlsIdentity};
use crate::store::{Conn, Store, StoreError, TxMode};

/// What `init` found or did.
#[derive(Debug, Clone)]
pub struct InitReport {
    pub created: bool,
    pub schema_version: u32,
    pub steps_applied: Vec<String>,
    pub node: String,
    pub domains: Vec<String>,
    pub orapost: String,
    pub certificate_until: Option<String>,
    pub registered: Vec<String>,
}

fn err(e: impl std::fmt::Display) -> AdminError {
    AdminError(e.to_string())
}

pub use crate::config::host_name;

fn node_name_from_host(host: &str) -> String {
    let first = host.split('.').next().unwrap_or(host);
    let n: String = first
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    if n.is_empty() {
        "node1".into()
    } else {
        n
    }
}

pub fn init(
    store: &Store,
    defines: &Defines,
    domain: Option<&str>,
) -> Result<InitReport, AdminError> {
    let mut c = store.conn().map_err(err)?;
    let applied = schema::upgrade(&mut c, defines).map_err(err)?;
    let steps_applied: Vec<String> = applied
        .iter()
        .map(|s| format!("{} {}", s.version, s.name))
        .collect();
    let domain = match domain {
        Some(d) => Some(directory::address::check_domain(d).map_err(err)?),
        None => None,
    };
    let mut report = c.transaction(TxMode::Write, |c| -> Result<InitReport, AdminError> {
        match system::local_node_id(c).map_err(err)? {
            Some(node_id) => describe(c, node_id, false),
            None => bootstrap(c, domain.as_deref()),
        }
    })?;
    report.steps_applied = steps_applied;
    report.schema_version = schema::current_version(&mut c).map_err(err)?.unwrap_or(0);
    Ok(report)
}

fn describe(c: &mut Conn, node_id: i64, created: bool) -> Result<InitReport, AdminError> {
    let node = system::nodes(c, node_id)
        .map_err(err)?
        .into_iter()
        .next()
        .map(|n| n.name)
        .unwrap_or_default();
    let domains = system::domains(c)
        .map_err(err)?
        .into_iter()
        .map(|d| d.name)
        .collect();
    let orapost = system::setting(c, system::ORAPOST)
        .map_err(err)?
        .unwrap_or_default();
    let cert = system::tls_identity(c, "default").map_err(err)?;
    Ok(InitReport {
        created,
        schema_version: 0,
        steps_applied: Vec::new(),
        node,
        domains,
        orapost,
        certificate_until: cert
            .and_then(|t| t.not_after)
            .map(|t| t.format("%Y-%m-%d").to_string()),
        registered: Vec::new(),
    })
}

fn bootstrap(c: &mut Conn, domain: Option<&str>) -> Result<InitReport, AdminError> {
    let now = Utc::now();
    let host = host_name();
    let domain = match domain {
        Some(d) => d.to_string(),
        None => directory::address::check_domain(&host).map_err(|e| {
            format!("the host name {host:?} is not usable as a domain ({e}); give --domain NAME")
        })?,
    };
    let node = Node {
        guid: system::new_guid(),
        name: node_name_from_host(&host),
        host: Some(host.clone()),
        is_scn: true,
        cost: 1,
        ..Default::default()
    };
    let node_id = system::insert_node(c, &node, now).map_err(err)?;
    system::put_setting(c, system::LOCAL_NODE, &node_id.to_string()).map_err(err)?;
    system::put_setting(
        c,
        system::DEFAULT_QUOTA,
        &directory::DEFAULT_QUOTA_BYTES.to_string(),
    )
    .map_err(err)?;
    let d = Domain {
        guid: system::new_guid(),
        name: domain.clone(),
        dcn_node_id: node_id,
        description: Some("first domain".into()),
        ..Default::default()
    };
    system::insert_domain(c, &d, now).map_err(err)?;
    system::put_setting(c, system::DEFAULT_DOMAIN, &domain).map_err(err)?;
    let cm = Community {
        guid: system::new_guid(),
        name: "default".into(),
        protocol: "TCP/IP".into(),
        description: Some("the first community".into()),
        ..Default::default()
    };
    system::insert_community(c, &cm, &[node_id], now).map_err(err)?;
    let ctx = Ctx { node_id, now };
    directory::create(
        c,
        &ctx,
        Class::Object(ObjectClass::Person),
        Args::from_pairs(&[
            ("username", "orapost"),
            ("domain", &domain),
            ("displayname", "esmail system account"),
            (
                "description",
                "receives Monitor and Statistics reports and Postman notices",
            ),
            ("quota", "0"),
        ]),
    )
    .map_err(err)?;
    let orapost = format!("orapost@{domain}");
    system::put_setting(c, system::ORAPOST, &orapost).map_err(err)?;
    let g = crate::tls::self_signed(&host, &[host.clone(), domain.clone()])?;
    system::insert_tls_identity(
        c,
        &TlsIdentity {
            name: "default".into(),
            cert_pem: g.cert_pem,
            key_pem: g.key_pem,
            not_after: Some(g.not_after),
        },
        now,
    )
    .map_err(err)?;
    let registered = process::register_provided(c, node_id, now).map_err(err)?;
    let mut r = describe(c, node_id, true)?;
    r.registered = registered;
    Ok(r)
}

/// `esmail upgrade`: applies missing schema steps and registers newly provided process types.
pub fn upgrade(
    store: &Store,
    defines: &Defines,
) -> Result<(Vec<String>, Vec<String>, u32), AdminError> {
    let mut c = store.conn().map_err(err)?;
    if schema::current_version(&mut c).map_err(err)?.is_none() {
        return Err(StoreError::Schema(
            "the store has no esmail schema: run `esmail init --domain NAME` first".into(),
        )
        .into());
    }
    let applied = schema::upgrade(&mut c, defines).map_err(err)?;
    let registered = c.transaction(TxMode::Write, |c| -> Result<Vec<String>, AdminError> {
        match system::local_node_id(c).map_err(err)? {
            Some(node_id) => process::register_provided(c, node_id, Utc::now()).map_err(err),
            None => Ok(Vec::new()),
        }
    })?;
    let v = schema::current_version(&mut c).map_err(err)?.unwrap_or(0);
    Ok((
        applied
            .iter()
            .map(|s| format!("{} {}", s.version, s.name))
            .collect(),
        registered,
        v,
    ))
}
