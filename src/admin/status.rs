//! `esmail status`: what the store holds, for an administrator.

use super::error::AdminError;
use crate::process::{self, Instance};
use crate::store::{processes, schema, system, Store, TxMode};

pub fn report(store: &Store, url: &str) -> Result<String, AdminError> {
    let mut c = store.conn().map_err(|e| e.to_string())?;
    c.transaction(TxMode::Read, |c| -> Result<String, AdminError> {
        let e = |e: crate::store::StoreError| e.to_string();
        let v = schema::require_current(c).map_err(e)?;
        let node_id = system::local_node_id(c)
            .map_err(e)?
            .ok_or("the store has no node yet: run `esmail init --domain NAME` first")?;
        let mut s = String::new();
        s.push_str(&format!("store      {url} (schema version {v})\n"));
        for n in system::nodes(c, 0).map_err(e)? {
            let mut roles = Vec::new();
            if n.node_id == node_id {
                roles.push("this node");
            }
            if n.is_scn {
                roles.push("system configuration node");
            }
            s.push_str(&format!(
                "node       {} ({}), host {}\n",
                n.name,
                roles.join(", "),
                n.host.unwrap_or_default()
            ));
        }
        for d in system::domains(c).map_err(e)? {
            s.push_str(&format!(
                "domain     {} (configuration node {})\n",
                d.name, d.dcn
            ));
        }
        if let Some(o) = system::setting(c, system::ORAPOST).map_err(e)? {
            s.push_str(&format!("orapost    {o}\n"));
        }
        if let Some(t) = system::tls_identity(c, "default").map_err(e)? {
            s.push_str(&format!(
                "tls        certificate 'default', valid until {}\n",
                t.not_after
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_else(|| "?".into())
            ));
        }
        let procs = processes::processes(c, node_id, None, 0).map_err(e)?;
        if procs.is_empty() {
            s.push_str(&format!(
                "processes  none registered (types provided by this build: {})\n",
                if process::PROVIDED.is_empty() {
                    "none yet".to_string()
                } else {
                    process::PROVIDED.join(", ")
                }
            ));
        }
        for p in procs {
            let params = process::effective(c, node_id, &p.type_name, Instance::Number(p.instance))
                .map_err(|e| e.to_string())?;
            let startup = params
                .iter()
                .find(|x| x.name == "defaultStartUp")
                .and_then(|x| x.value.clone())
                .unwrap_or_default();
            s.push_str(&format!(
                "process    {}{} {} (desired {}, defaultStartUp {})\n",
                p.type_name,
                p.instance,
                p.actual_state.to_lowercase(),
                p.desired_state.to_lowercase(),
                startup.to_lowercase()
            ));
        }
        let (changes, seq) = system::dir_change_stats(c).map_err(e)?;
        s.push_str(&format!(
            "directory  {changes} changes logged (latest sequence {seq})\n"
        ));
        Ok(s)
    })
}
