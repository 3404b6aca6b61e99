//! SEARCH and UID SEARCH: decided from the snapshot where the keys allow it; the messages
//! left undecided are read in batches (only their headers when the keys look at no more:
//! FROM, TO, CC, BCC, SUBJECT, HEADER, SENTBEFORE/ON/SINCE) and tested on a blocking thread.
//! The result is a `* SEARCH` response, or with `RETURN (...)` an `* ESEARCH` one (RFC 4731) and/or the saved
//! result `$` (SEARCHRES, RFC 5182); a MODSEQ key adds the highest MODSEQ of the messages
//! returned (RFC 7162, 3.1.5).

use imap_codec::imap_types::core::{Charset, Vec1};
use imap_codec::imap_types::search::SearchKey;

use super::cmd_fetch::batches;
use super::parse::SearchReturn;
use super::response::{self, Done, Kind};
use super::search::{Bounds, Candidate, Compiled, Key};
use super::selected::Msg;
use super::session::Session;
use super::store;

fn candidate<'a>(seq: u32, m: &'a Msg, content: Option<&'a [u8]>) -> Candidate<'a> {
    Candidate {
        seq,
        uid: m.uid,
        flags: &m.flags,
        recent: m.recent,
        modseq: m.modseq,
        internal_date: m.internal_date,
        size: m.size,
        content,
    }
}

/// The `* ESEARCH` line of a result (`found`: indexes in the snapshot, ascending), or `None`
/// when only SAVE was asked for.
pub(super) fn esearch_line(
    tag: &str,
    uid: bool,
    r: &SearchReturn,
    msgs: &[Msg],
    found: &[usize],
    with_modseq: bool,
) -> Option<String> {
    if !(r.min || r.max || r.count || r.all) {
        return None;
    }
    let number = |i: usize| if uid { msgs[i].uid } else { i as u32 + 1 };
    let mut out = Vec::new();
    out.extend_from_slice(b"ESEARCH (TAG ");
    response::quoted(&mut out, tag.as_bytes());
    out.push(b')');
    let mut line = String::from_utf8_lossy(&out).into_owned();
    if uid {
        line.push_str(" UID");
    }
    if let (Some(&first), Some(&last)) = (found.first(), found.last()) {
        if r.min {
            line.push_str(&format!(" MIN {}", number(first)));
        }
        if r.max {
            line.push_str(&format!(" MAX {}", number(last)));
        }
    }
    if r.count {
        line.push_str(&format!(" COUNT {}", found.len()));
    }
    if r.all && !found.is_empty() {
        let nums: Vec<u32> = found.iter().map(|&i| number(i)).collect();
        line.push_str(&format!(" ALL {}", response::number_set(&nums)));
    }
    if with_modseq {
        // the highest MODSEQ of the messages returned: all of them, or the MIN and MAX ones
        let returned: Vec<usize> = if r.all || r.count {
            found.to_vec()
        } else {
            let mut v = Vec::new();
            if r.min {
                v.extend(found.first());
            }
            if r.max {
                v.extend(found.last());
            }
            v
        };
        if let Some(m) = returned.iter().map(|&i| msgs[i].modseq).max() {
            line.push_str(&format!(" MODSEQ {}", m.max(1)));
        }
    }
    Some(line)
}

/// The messages SEARCH RETURN (SAVE) keeps: only the MIN and/or MAX ones when those are all
/// that was asked for, else all (RFC 5182).
pub(super) fn saved_of(r: &SearchReturn, found: &[usize]) -> Vec<usize> {
    if (r.min || r.max) && !r.all && !r.count {
        let mut v = Vec::new();
        if r.min {
            v.extend(found.first());
        }
        if r.max {
            v.extend(found.last());
        }
        v.dedup();
        v
    } else {
        found.to_vec()
    }
}

impl Session {
    pub(super) async fn search(
        &mut self,
        tag: &str,
        charset: Option<Charset<'static>>,
        criteria: Vec1<SearchKey<'static>>,
        uid: bool,
        ret: Option<SearchReturn>,
    ) -> Done {
        let done = self.search_in(tag, charset, criteria, uid, ret).await;
        if done.kind != Kind::Ok && ret.is_some_and(|r| r.save) {
            // a failed SEARCH ... RETURN (SAVE) leaves an empty result (RFC 5182)
            if let Some(sel) = self.selected.as_mut() {
                sel.saved.clear();
            }
        }
        done
    }

    async fn search_in(
        &mut self,
        tag: &str,
        charset: Option<Charset<'static>>,
        criteria: Vec1<SearchKey<'static>>,
        uid: bool,
        ret: Option<SearchReturn>,
    ) -> Done {
        if let Some(cs) = &charset {
            let name = match cs {
                Charset::Atom(a) => a.as_ref().to_string(),
                Charset::Quoted(q) => q.as_ref().to_string(),
            };
            if !name.eq_ignore_ascii_case("US-ASCII") && !name.eq_ignore_ascii_case("UTF-8") {
                return Done::no(format!("unsupported charset {name}"))
                    .code("BADCHARSET (US-ASCII UTF-8)");
            }
        }
        let key = match Key::from_criteria(criteria.as_ref()) {
            Ok(k) => k,
            Err(e) => return Done::bad(e.0),
        };
        let with_modseq = key.has_modseq();
        if with_modseq {
            self.enable_condstore();
        }
        let Some(sel) = self.selected.as_ref() else {
            return Done::bad("No mailbox selected");
        };
        let compiled = Compiled::new(
            key,
            Bounds {
                count: sel.count(),
                max_uid: sel.max_uid(),
            },
        );
        let mut found: Vec<usize> = Vec::new();
        let mut undecided: Vec<usize> = Vec::new();
        for (i, m) in sel.msgs.iter().enumerate() {
            if m.expunged {
                continue;
            }
            match compiled.eval(&candidate(i as u32 + 1, m, None)) {
                Some(true) => found.push(i),
                Some(false) => {}
                None => undecided.push(i),
            }
        }
        if !undecided.is_empty() {
            let compiled = std::sync::Arc::new(compiled);
            let need = compiled.need();
            for range in batches(sel, &undecided, need) {
                let part: Vec<(usize, Msg)> = undecided[range]
                    .iter()
                    .map(|&i| (i, sel.msgs[i].clone()))
                    .collect();
                let ids = part.iter().map(|(_, m)| m.message_id).collect();
                let loaded = match store::load(&self.ctx.db, ids, false, need).await {
                    Ok(l) => l,
                    Err(_) => return Done::unavailable(),
                };
                let c = compiled.clone();
                let matched = tokio::task::spawn_blocking(move || {
                    part.iter()
                        .zip(loaded)
                        .filter(|((i, m), l)| {
                            let content = l.content.as_deref().unwrap_or_default();
                            c.eval(&candidate(*i as u32 + 1, m, Some(content)))
                                .unwrap_or(false)
                                && l.content.is_some()
                        })
                        .map(|((i, _), _)| *i)
                        .collect::<Vec<usize>>()
                })
                .await;
                match matched {
                    Ok(m) => found.extend(m),
                    Err(e) => {
                        log::error!("imap search: {e}");
                        return Done::no("internal error").code("SERVERBUG");
                    }
                }
            }
            found.sort_unstable();
        }
        let Some(r) = ret else {
            let mut line = String::from("SEARCH");
            for &i in &found {
                line.push(' ');
                line.push_str(&if uid {
                    sel.msgs[i].uid.to_string()
                } else {
                    (i + 1).to_string()
                });
            }
            if with_modseq {
                if let Some(m) = found.iter().map(|&i| sel.msgs[i].modseq).max() {
                    line.push_str(&format!(" (MODSEQ {})", m.max(1)));
                }
            }
            response::line(&mut self.out, &line);
            return Done::ok("SEARCH completed");
        };
        if let Some(line) = esearch_line(tag, uid, &r, &sel.msgs, &found, with_modseq) {
            response::line(&mut self.out, &line);
        }
        if r.save {
            let uids: Vec<u32> = saved_of(&r, &found)
                .into_iter()
                .map(|i| sel.msgs[i].uid)
                .collect();
            if let Some(sel) = self.selected.as_mut() {
                sel.saved = uids;
            }
        }
        Done::ok("SEARCH completed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sps::imap::flags::Flags;
    use chrono::Utc;

    fn msgs() -> Vec<Msg> {
        [(3, 7), (5, 9), (8, 4), (9, 2)]
            .iter()
            .map(|&(uid, modseq)| Msg {
                uid,
                message_id: uid as i64,
                flags: Flags::default(),
                modseq,
                internal_date: Utc::now(),
                size: 1,
                recent: false,
                expunged: false,
            })
            .collect()
    }

    fn ret(s: &str) -> SearchReturn {
        let mut r = SearchReturn::default();
        for w in s.split_whitespace() {
            match w {
                "MIN" => r.min = true,
                "MAX" => r.max = true,
                "COUNT" => r.count = true,
                "ALL" => r.all = true,
                "SAVE" => r.save = true,
                _ => unreachable!(),
            }
        }
        r
    }

    #[test]
    fn esearch_responses() {
        let m = msgs();
        let line = |r: &str, uid, found: &[usize], modseq| {
            esearch_line("A1", uid, &ret(r), &m, found, modseq)
        };
        assert_eq!(
            line("MIN MAX COUNT ALL", false, &[0, 1, 3], false).unwrap(),
            "ESEARCH (TAG \"A1\") MIN 1 MAX 4 COUNT 3 ALL 1:2,4"
        );
        assert_eq!(
            line("ALL", true, &[0, 1, 3], false).unwrap(),
            "ESEARCH (TAG \"A1\") UID ALL 3,5,9"
        );
        assert_eq!(
            line("MIN MAX", false, &[], false).unwrap(),
            "ESEARCH (TAG \"A1\")"
        );
        assert_eq!(
            line("COUNT", true, &[], true).unwrap(),
            "ESEARCH (TAG \"A1\") UID COUNT 0"
        );
        assert_eq!(line("SAVE", false, &[0], false), None);
        // MODSEQ: of what is returned
        assert_eq!(
            line("MIN", false, &[0, 1, 2], true).unwrap(),
            "ESEARCH (TAG \"A1\") MIN 1 MODSEQ 7"
        );
        assert_eq!(
            line("MAX", false, &[0, 1, 2], true).unwrap(),
            "ESEARCH (TAG \"A1\") MAX 3 MODSEQ 4"
        );
        assert_eq!(
            line("ALL", false, &[0, 1, 2], true).unwrap(),
            "ESEARCH (TAG \"A1\") ALL 1:3 MODSEQ 9"
        );
    }

    #[test]
    fn what_save_keeps() {
        assert_eq!(saved_of(&ret("SAVE"), &[1, 2, 3]), vec![1, 2, 3]);
        assert_eq!(saved_of(&ret("SAVE MIN"), &[1, 2, 3]), vec![1]);
        assert_eq!(saved_of(&ret("SAVE MIN MAX"), &[1, 2, 3]), vec![1, 3]);
        assert_eq!(saved_of(&ret("SAVE MIN MAX"), &[2]), vec![2]);
        assert_eq!(saved_of(&ret("SAVE MIN COUNT"), &[1, 2, 3]), vec![1, 2, 3]);
        assert_eq!(saved_of(&ret("SAVE MAX"), &[]), Vec::<usize>::new());
    }
}
