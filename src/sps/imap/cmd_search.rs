//! SEARCH and UID SEARCH: decided from the snapshot where the keys allow it; the messages
//! left undecided are read in batches and tested on a blocking thread.

use imap_codec::imap_types::core::{Charset, Vec1};
use imap_codec::imap_types::search::SearchKey;

use super::cmd_fetch::batches;
use super::response::{self, Done};
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
        internal_date: m.internal_date,
        size: m.size,
        content,
    }
}

impl Session {
    pub(super) async fn search(
        &mut self,
        charset: Option<Charset<'static>>,
        criteria: Vec1<SearchKey<'static>>,
        uid: bool,
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
            for range in batches(sel, &undecided) {
                let part: Vec<(usize, Msg)> = undecided[range]
                    .iter()
                    .map(|&i| (i, sel.msgs[i].clone()))
                    .collect();
                let ids = part.iter().map(|(_, m)| m.message_id).collect();
                let loaded = match store::load(&self.ctx.db, ids, false, true).await {
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
        let mut line = String::from("SEARCH");
        for i in found {
            line.push(' ');
            line.push_str(&if uid {
                sel.msgs[i].uid.to_string()
            } else {
                (i + 1).to_string()
            });
        }
        response::line(&mut self.out, &line);
        Done::ok("SEARCH completed")
    }
}
