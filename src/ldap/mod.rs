//! The directory in an LDAP directory (OpenLDAP, Oracle Internet Directory, any LDAPv3
//! server), so that LDAP clients (address books of mail clients) search it:
//!
//! - [`export`]: IOLDAP (`esmail ioldap --out FILE`), the first load: the whole directory as an
//!   LDIF file for `ldapadd`, from one consistent snapshot;
//! - [`sync`]: IOODSSYNC (`esmail ioodssync --instance 1`), a supervised process that pushes
//!   every change of the directory to the LDAP server as it happens, reading the directory
//!   change log as a subscriber and acknowledging what it applied;
//! - [`entry`]: which objects go to LDAP and as what entries (persons, rooms and equipment,
//!   public aliases and lists as `inetOrgPerson` entries under `ou=<domain>,<base_dn>`; no
//!   password or hash ever leaves the store);
//! - [`ldif`]: writing LDIF (RFC 2849).
//!
//! - [`pull`]: ODSIOSYNC (`esmail odsiosync --instance 1`), the other way: persons added in
//!   LDAP are created in esmail, persons deleted there are deleted (updates are not carried
//!   back).

pub mod entry;
pub mod export;
pub mod ldif;
pub mod pull;
pub mod sync;

use std::collections::BTreeMap;

use crate::directory::{self, Args, Class, ObjectClass};
use crate::store::{Conn, StoreError};

/// The classes that have LDAP entries.
pub const EXPORTED: [ObjectClass; 5] = [
    ObjectClass::Person,
    ObjectClass::Room,
    ObjectClass::Equipment,
    ObjectClass::PublicAlias,
    ObjectClass::PublicDl,
];

/// One object as the change log records it: its stored class and its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub class: String,
    pub values: BTreeMap<String, String>,
}

/// The values of a change-log JSON object (`None` when it is not one).
pub fn values_of(json: &str) -> Option<BTreeMap<String, String>> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let map = v.as_object()?;
    Some(
        map.iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.to_ascii_lowercase(), s.to_string())))
            .collect(),
    )
}

/// Every exported object of the directory, read in the caller's transaction, with the values
/// `fetch` shows (the same the change log records).
pub fn snapshot(c: &mut Conn, node_id: i64) -> Result<Vec<Object>, StoreError> {
    let ctx = directory::Ctx {
        node_id,
        now: chrono::Utc::now(),
    };
    let mut out = Vec::new();
    for oc in EXPORTED {
        let entries = directory::fetch(c, &ctx, Class::Object(oc), Args::from_pairs(&[])).map_err(
            |e| match e {
                directory::DirError::Store(s) => s,
                other => StoreError::Decode(other.to_string()),
            },
        )?;
        for e in entries {
            out.push(Object {
                class: oc.stored(),
                values: e
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .collect(),
            });
        }
    }
    Ok(out)
}
