//! IOLDAP (`esmail ioldap --out FILE --base-dn DN`): the whole directory as an LDIF file, for
//! the first load of an LDAP directory (`ldapadd -f FILE`). It reads one consistent snapshot
//! (a read transaction), writes the domains' containers first and then every exported entry,
//! to a temporary file renamed into place at the end (an interrupted export leaves no partial
//! file), with a progress bar on a terminal. It says which directory change the file is
//! consistent with: IOODSSYNC, started afterwards, keeps the LDAP directory current.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::Path;

use super::{entry, ldif, snapshot};
use crate::store::{system, Store, StoreError};

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub entries: usize,
    pub domains: usize,
    /// The last directory change the file includes.
    pub change_seq: i64,
}

/// Writes the LDIF of the directory of `store` to `out`.
pub fn export(store: &Store, node_id: i64, base_dn: &str, out: &Path) -> Result<Summary, String> {
    let base_dn = base_dn.trim();
    if base_dn.is_empty() || !base_dn.contains('=') {
        return Err(format!(
            "--base-dn {base_dn:?} is not a DN (for example dc=acme,dc=com or o=esmail)"
        ));
    }
    let (objects, change_seq) = store
        .read(|c| -> Result<_, StoreError> {
            let seq = system::dir_change_stats(c)?.1;
            Ok((snapshot(c, node_id)?, seq))
        })
        .map_err(|e| e.to_string())?;
    let entries: Vec<(String, entry::Entry)> = objects
        .iter()
        .filter_map(|o| {
            entry::map(&o.class, &o.values, base_dn)
                .map(|e| (o.values.get("domain").cloned().unwrap_or_default(), e))
        })
        .collect();
    let domains: BTreeSet<String> = entries
        .iter()
        .map(|(d, _)| d.to_ascii_lowercase())
        .collect();
    let tmp = out.with_extension("ldif.partial");
    let write = || -> std::io::Result<()> {
        let f = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(f);
        ldif::header(&mut w)?;
        for d in &domains {
            ldif::write_entry(&mut w, &entry::domain_entry(d, base_dn))?;
        }
        let bar = if std::io::stderr().is_terminal() && !entries.is_empty() {
            let bar = indicatif::ProgressBar::new(entries.len() as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "exporting [{bar:40}] {pos}/{len} entries ({per_sec}, {eta} left)",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        for (_, e) in &entries {
            ldif::write_entry(&mut w, e)?;
            bar.inc(1);
        }
        bar.finish_and_clear();
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, out)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", out.display()));
    }
    Ok(Summary {
        entries: entries.len(),
        domains: domains.len(),
        change_seq,
    })
}

/// `esmail ioldap`: opens the store, exports, and prints what was written.
pub fn run(args: &crate::cli::StoreArgs, base_dn: &str, out: &Path) -> Result<String, String> {
    let (store, _cfg) = args.open(false)?;
    let node_id = store
        .read(system::local_node_id)
        .map_err(|e| e.to_string())?
        .ok_or("the store has no node yet: run esmail init first")?;
    let s = export(&store, node_id, base_dn, out)?;
    Ok(format!(
        "wrote {} entries in {} domain container(s) to {}, consistent with directory change {} \
         (load it with ldapadd -f; then IOODSSYNC keeps the LDAP directory current)",
        s.entries,
        s.domains,
        out.display(),
        s.change_seq
    ))
}
