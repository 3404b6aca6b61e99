//! `esmail backup --to PATH` and `esmail restore --from PATH`: the embedded store's hot backup
//! and its restore. An Oracle store is backed up with RMAN (docs/backup-and-recovery.md), and
//! both commands say so.
//!
//! - **backup** writes a consistent copy of the running store with `VACUUM INTO`
//!   (`store::backup`): one read transaction, so the node keeps accepting and delivering mail
//!   and the copy holds exactly what was committed when it began. The copy is written to a
//!   temporary name in the target's directory, flushed to disk, then linked to its name
//!   (which must not exist: a backup never overwrites a file).
//! - **restore** puts a copy in place of the store: it refuses while a process of the node
//!   runs on the store, copies the backup next to the store, checks the copy (SQLite's
//!   integrity check, the esmail schema), keeps the store it replaces as
//!   `<store>.before-restore-<time>` (with its `-wal` and `-shm` files), and renames the copy
//!   into place, flushing each step to disk.

use std::fs::{self, File};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::cli::StoreArgs;
use crate::store::{self, schema, Dialect, StoreUrl};

/// What both commands say on an Oracle store (one line).
pub const RMAN: &str = "an Oracle store is backed up and restored with RMAN, not by esmail: see docs/backup-and-recovery.md";

fn e(x: impl std::fmt::Display) -> String {
    x.to_string()
}

/// `1.2 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// The embedded store's file, or the one-line refusal for an Oracle store.
fn sqlite_path(args: &StoreArgs) -> Result<PathBuf, String> {
    match args.resolve()?.url {
        StoreUrl::Sqlite(p) => Ok(p),
        StoreUrl::Oracle { .. } => Err(RMAN.to_string()),
    }
}

/// A file's directory, made absolute (it must exist), and its name.
fn split(path: &Path) -> Result<(PathBuf, String), String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: not a file name esmail can use", path.display()))?
        .to_string();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = fs::canonicalize(&dir)
        .map_err(|err| format!("the directory {} is not there: {err}", dir.display()))?;
    Ok((dir, name))
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn sync_file(p: &Path) -> Result<(), String> {
    File::open(p)
        .and_then(|f| f.sync_all())
        .map_err(|err| format!("cannot flush {} to disk: {err}", p.display()))
}

fn sync_dir(dir: &Path) -> Result<(), String> {
    File::open(dir).and_then(|f| f.sync_all()).map_err(|err| {
        format!(
            "cannot flush the directory {} to disk: {err}",
            dir.display()
        )
    })
}

fn remove_if_there(p: &Path) {
    if p.symlink_metadata().is_ok() {
        let _ = fs::remove_file(p);
    }
}

/// A spinner with the time elapsed, on a terminal only.
fn spinner(msg: String) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(msg);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Takes a consistent copy of the running embedded store into `to`; returns what it did, for
/// the administrator.
pub fn backup(args: &StoreArgs, to: &Path) -> Result<String, String> {
    let db = sqlite_path(args)?;
    if to.symlink_metadata().is_ok() {
        return Err(format!(
            "{} exists: a backup never overwrites a file (give a new name)",
            to.display()
        ));
    }
    let (dir, name) = split(to)?;
    let target = dir.join(&name);
    let temp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    remove_if_there(&temp);
    let (store, cfg) = args.open_with_pool(1)?;
    let bar = spinner(format!(
        "esmail: copying {} to {}",
        cfg.url,
        target.display()
    ));
    let began = Utc::now();
    let started = Instant::now();
    let copied = store::backup::vacuum_into(&store, &temp);
    drop(store);
    bar.finish_and_clear();
    if let Err(err) = copied {
        remove_if_there(&temp);
        return Err(format!("the copy of {} failed: {err}", db.display()));
    }
    let finish = || -> Result<(), String> {
        sync_file(&temp)?;
        // link, not rename: a file that appeared under the name meanwhile is not replaced
        match fs::hard_link(&temp, &target) {
            Ok(()) => fs::remove_file(&temp).map_err(e)?,
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(format!(
                    "{} appeared while the copy was made: it was left alone",
                    target.display()
                ))
            }
            Err(_) => {
                // a file system without hard links
                if target.symlink_metadata().is_ok() {
                    return Err(format!("{} exists: it was left alone", target.display()));
                }
                fs::rename(&temp, &target).map_err(e)?;
            }
        }
        sync_dir(&dir)
    };
    if let Err(err) = finish() {
        remove_if_there(&temp);
        return Err(err);
    }
    let size = fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    Ok(format!(
        "esmail: backed up {} to {}: {} in {:.1} s, consistent as of {} (restore it with esmail restore --from {})",
        cfg.url,
        target.display(),
        human_size(size),
        started.elapsed().as_secs_f64(),
        began.format("%Y-%m-%d %H:%M:%S UTC"),
        target.display()
    ))
}

/// Copies `from` to `to` (a new file), with a progress bar on a terminal, and flushes it.
fn copy_file(from: &Path, to: &Path) -> Result<u64, String> {
    let len = fs::metadata(from).map_err(e)?.len();
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(len);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "esmail: copying the backup [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut src =
        File::open(from).map_err(|err| format!("cannot read {}: {err}", from.display()))?;
    let mut dst = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|err| format!("cannot write {}: {err}", to.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = src
            .read(&mut buf)
            .map_err(|err| format!("cannot read {}: {err}", from.display()))?;
        if n == 0 {
            break;
        }
        dst.write_all(&buf[..n])
            .map_err(|err| format!("cannot write {}: {err}", to.display()))?;
        total += n as u64;
        bar.set_position(total);
    }
    dst.sync_all()
        .map_err(|err| format!("cannot flush {} to disk: {err}", to.display()))?;
    bar.finish_and_clear();
    Ok(total)
}

/// Puts the backup `from` in place of the embedded store; returns what it did.
pub fn restore(args: &StoreArgs, from: &Path) -> Result<String, String> {
    let db = sqlite_path(args)?;
    let meta =
        fs::metadata(from).map_err(|err| format!("no backup at {}: {err}", from.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a file", from.display()));
    }
    let beside = with_suffix(from, "-wal");
    if fs::metadata(&beside).map(|m| m.len() > 0).unwrap_or(false) {
        return Err(format!(
            "{} has a write-ahead log beside it ({}): it is a live store, not a backup; take one with esmail backup",
            from.display(),
            beside.display()
        ));
    }
    if let Some(d) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(d).map_err(|err| format!("cannot create {}: {err}", d.display()))?;
    }
    let (dir, name) = split(&db)?;
    let db = dir.join(&name);
    if fs::canonicalize(from).ok().as_deref() == Some(db.as_path()) {
        return Err(format!("{} is the store itself", from.display()));
    }
    let exists = db.symlink_metadata().is_ok();
    if exists {
        // nothing of the node may run on the file about to be replaced
        let running = || -> Result<Option<String>, String> {
            let (store, _) = args.open_with_pool(1)?;
            let mut c = store.conn().map_err(e)?;
            match store::system::local_node_id(&mut c).map_err(e)? {
                Some(node) => crate::guardian::node_running(&mut c, node),
                None => Ok(None),
            }
        };
        match running() {
            Ok(None) => {}
            Ok(Some(why)) => return Err(format!("{why}: stop the node before restoring its store")),
            Err(err) => {
                return Err(format!(
                    "cannot check that no esmail process uses {}: {err}; once sure none does, move it aside and run esmail restore again",
                    db.display()
                ))
            }
        }
    }
    let started = Instant::now();
    let temp = dir.join(format!(".{name}.restore-{}", std::process::id()));
    let cleanup = |p: &Path| {
        for s in ["", "-wal", "-shm", "-journal"] {
            remove_if_there(&with_suffix(p, s));
        }
    };
    cleanup(&temp);
    let bytes = match copy_file(from, &temp) {
        Ok(n) => n,
        Err(err) => {
            cleanup(&temp);
            return Err(err);
        }
    };
    // the copy is checked, not the original: what is checked is what goes in place
    let bar = spinner("esmail: checking the copy".to_string());
    let checked = store::backup::inspect(&temp);
    bar.finish_and_clear();
    let info = match checked {
        Ok(i) => i,
        Err(err) => {
            cleanup(&temp);
            return Err(format!(
                "{} is not a usable esmail store: {err}",
                from.display()
            ));
        }
    };
    let temp_wal = with_suffix(&temp, "-wal");
    if fs::metadata(&temp_wal)
        .map(|m| m.len() > 0)
        .unwrap_or(false)
    {
        cleanup(&temp);
        return Err(format!(
            "the check of the copy left a write-ahead log ({}): nothing was changed",
            temp_wal.display()
        ));
    }
    for s in ["-wal", "-shm"] {
        remove_if_there(&with_suffix(&temp, s));
    }
    if let Err(err) = sync_file(&temp) {
        cleanup(&temp);
        return Err(err);
    }
    let mut kept = None;
    if exists {
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        let old = dir.join(format!("{name}.before-restore-{stamp}"));
        if old.symlink_metadata().is_ok() {
            cleanup(&temp);
            return Err(format!(
                "{} exists already: try again in a second",
                old.display()
            ));
        }
        let moved = fs::rename(&db, &old).map_err(|err| {
            format!(
                "cannot move the store {} aside: {err}; nothing was changed",
                db.display()
            )
        });
        if let Err(err) = moved {
            cleanup(&temp);
            return Err(err);
        }
        let mut moved = vec![old.display().to_string()];
        for s in ["-wal", "-shm"] {
            let f = with_suffix(&db, s);
            if f.symlink_metadata().is_ok() {
                moved.push(with_suffix(&old, s).display().to_string());
                fs::rename(&f, with_suffix(&old, s)).map_err(|err| {
                    format!(
                        "cannot move {} aside: {err}; the old store is {} (put it back by hand)",
                        f.display(),
                        old.display()
                    )
                })?;
            }
        }
        kept = Some(moved);
    }
    fs::rename(&temp, &db).map_err(|err| {
        format!(
            "cannot put the copy {} in place of {}: {err}",
            temp.display(),
            db.display()
        )
    })?;
    sync_dir(&dir)?;
    let latest = schema::latest(Dialect::Sqlite);
    let mut text = format!(
        "esmail: restored {} into sqlite:{} ({}schema version {}, {} message{}, {} in {:.1} s)",
        from.display(),
        db.display(),
        info.node
            .as_deref()
            .map(|n| format!("node {n}, "))
            .unwrap_or_default(),
        info.schema_version,
        info.messages,
        if info.messages == 1 { "" } else { "s" },
        human_size(bytes),
        started.elapsed().as_secs_f64()
    );
    if let Some(moved) = kept {
        text.push_str(&format!(
            "\n  the store it replaced is kept as {}",
            moved.join(", ")
        ));
    }
    if info.schema_version < latest {
        text.push_str(&format!(
            "\n  its schema is version {}, this esmail's {latest}: esmail start (or esmail upgrade) brings it up to date",
            info.schema_version
        ));
    }
    text.push_str("\n  next: iofcmgr verify store; then esmail start");
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(12), "12 bytes");
        assert_eq!(human_size(2048), "2.0 KiB");
        assert_eq!(human_size(5 * 1024 * 1024 + 1024 * 512), "5.5 MiB");
    }
}
