//! LIST and LSUB over an account's folders and subscriptions: which names match, and their
//! attributes (`\Noselect` for levels that exist only as parents, `\HasChildren` /
//! `\HasNoChildren`, the special use, `\Subscribed` when asked).

use std::collections::{BTreeMap, BTreeSet};

use super::names;
use crate::store::mailbox::Folder;

/// Options of an extended LIST (RFC 5258 / RFC 6154).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `LIST (SPECIAL-USE) ...`: only folders with a special use.
    pub special_use_only: bool,
    /// `RETURN (SUBSCRIBED)`.
    pub subscribed: bool,
}

/// One LIST or LSUB response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub attrs: Vec<String>,
    pub name: String,
}

impl Entry {
    pub fn attrs(&self) -> String {
        format!("({})", self.attrs.join(" "))
    }
}

/// LIST: the folders (and the levels above them) matching `pattern`.
pub fn list(folders: &[Folder], subs: &[String], pattern: &str, opts: &Options) -> Vec<Entry> {
    // every name, with its folder when it is one
    let mut all: BTreeMap<&str, Option<&Folder>> = BTreeMap::new();
    for f in folders {
        all.insert(&f.path, Some(f));
    }
    for f in folders {
        for a in names::ancestors(&f.path) {
            all.entry(a).or_insert(None);
        }
    }
    let keys: Vec<&str> = all.keys().copied().collect();
    let mut out = Vec::new();
    for (i, (name, folder)) in all.iter().enumerate() {
        if !names::matches(pattern, name) {
            continue;
        }
        let special = folder.and_then(|f| f.special_use.clone());
        if opts.special_use_only && special.is_none() {
            continue;
        }
        let mut attrs = Vec::new();
        if folder.is_none() {
            attrs.push("\\Noselect".to_string());
        }
        // names below come right after in sorted order, unless a sibling such as `a b`
        // sorts between `a` and `a/b`: look until the prefix no longer matches
        let children = keys[i + 1..]
            .iter()
            .take_while(|k| k.starts_with(*name))
            .any(|k| names::is_below(k, name));
        attrs.push(
            if children {
                "\\HasChildren"
            } else {
                "\\HasNoChildren"
            }
            .to_string(),
        );
        if let Some(s) = special {
            attrs.push(s);
        }
        if opts.subscribed && subs.iter().any(|s| s == name) {
            attrs.push("\\Subscribed".to_string());
        }
        out.push(Entry {
            attrs,
            name: name.to_string(),
        });
    }
    out
}

/// LSUB: the subscribed names matching `pattern`; a level above a subscribed name that does
/// not match, itself unsubscribed, is shown with `\Noselect` when it matches (RFC 3501,
/// 6.3.9).
pub fn lsub(subs: &[String], pattern: &str) -> Vec<Entry> {
    let subscribed: BTreeSet<&str> = subs.iter().map(String::as_str).collect();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in &subscribed {
        if names::matches(pattern, s) {
            out.insert(s.to_string(), Vec::new());
            continue;
        }
        for a in names::ancestors(s) {
            if !subscribed.contains(a) && names::matches(pattern, a) {
                out.insert(a.to_string(), vec!["\\Noselect".to_string()]);
            }
        }
    }
    out.into_iter()
        .map(|(name, attrs)| Entry { attrs, name })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(path: &str, special: Option<&str>) -> Folder {
        Folder {
            folder_id: 1,
            path: path.into(),
            special_use: special.map(str::to_string),
            uidvalidity: 1,
            next_uid: 1,
            highest_modseq: 1,
            message_count: 0,
            recent_uid: 1,
        }
    }

    fn names_of(e: &[Entry]) -> Vec<String> {
        e.iter()
            .map(|e| format!("{} {}", e.attrs(), e.name))
            .collect()
    }

    #[test]
    fn list_attributes() {
        let fs = vec![
            folder("INBOX", None),
            folder("Sent", Some("\\Sent")),
            folder("a/b/c", None),
            folder("a b", None),
            folder("a", None),
        ];
        let subs = vec!["INBOX".to_string()];
        let o = Options::default();
        assert_eq!(
            names_of(&list(&fs, &subs, "*", &o)),
            vec![
                "(\\HasNoChildren) INBOX",
                "(\\HasNoChildren \\Sent) Sent",
                "(\\HasChildren) a",
                "(\\HasNoChildren) a b",
                "(\\Noselect \\HasChildren) a/b",
                "(\\HasNoChildren) a/b/c",
            ]
        );
        assert_eq!(
            names_of(&list(&fs, &subs, "a/%", &o)),
            vec!["(\\Noselect \\HasChildren) a/b"]
        );
        let o = Options {
            special_use_only: true,
            subscribed: false,
        };
        assert_eq!(
            names_of(&list(&fs, &subs, "*", &o)),
            vec!["(\\HasNoChildren \\Sent) Sent"]
        );
        let o = Options {
            special_use_only: false,
            subscribed: true,
        };
        assert_eq!(
            names_of(&list(&fs, &subs, "INBOX", &o)),
            vec!["(\\HasNoChildren \\Subscribed) INBOX"]
        );
    }

    #[test]
    fn lsub_shows_unsubscribed_parents_as_noselect() {
        let subs: Vec<String> = ["t/test", "t/test2/test", "t/test3/test3"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            names_of(&lsub(&subs, "t/%")),
            vec!["() t/test", "(\\Noselect) t/test2", "(\\Noselect) t/test3"]
        );
        assert_eq!(
            names_of(&lsub(&subs, "*test")),
            vec!["() t/test", "() t/test2/test"]
        );
        assert_eq!(
            names_of(&lsub(&subs, "t/*")),
            vec!["() t/test", "() t/test2/test", "() t/test3/test3"]
        );
    }
}
