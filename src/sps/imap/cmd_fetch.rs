//! FETCH and UID FETCH: `\Seen` set first (one write) when a body is fetched without PEEK,
//! then the messages in batches: one read per batch for the cached structures and the
//! contents (only the headers, when the items ask for no more of the messages), parsed and
//! rendered on a blocking thread, structures not cached yet computed once and stored. With CONDSTORE (RFC 7162): the MODSEQ item, the CHANGEDSINCE modifier,
//! and with QRESYNC the VANISHED modifier of UID FETCH.

use std::collections::HashSet;

use imap_codec::imap_types::command::FetchModifier;
use imap_codec::imap_types::fetch::MacroOrMessageDataItemNames;
use imap_codec::imap_types::flag::StoreType;
use imap_codec::imap_types::sequence::SequenceSet;

use super::cmd_select::target;
use super::fetch::{Item, Plan};
use super::flags::{self, Flags};
use super::mime;
use super::response::{self, Done};
use super::selected::{Msg, Selected};
use super::sequence::{self, Ranges};
use super::session::Session;
use super::store::{self, Need};
use crate::store::mailbox;

/// Most bytes of content read in one transaction (at least one message is).
pub(super) const BATCH_BYTES: i64 = 8 * 1024 * 1024;
/// Most messages read in one transaction.
pub(super) const BATCH_MESSAGES: usize = 200;

/// Splits `idx` into batches by the bytes to read: the messages' sizes, or at most the first
/// bytes of each when only their header is needed.
pub(super) fn batches(sel: &Selected, idx: &[usize], need: Need) -> Vec<std::ops::Range<usize>> {
    let cost = |i: usize| {
        let size = sel.msgs[i].size.max(0);
        if need == Need::Header {
            size.min(mailbox::HEAD_BYTES as i64)
        } else {
            size
        }
    };
    let mut out = Vec::new();
    let mut start = 0;
    while start < idx.len() {
        let mut end = start;
        let mut bytes = 0i64;
        while end < idx.len()
            && (end == start
                || (bytes.saturating_add(cost(idx[end])) <= BATCH_BYTES
                    && end - start < BATCH_MESSAGES))
        {
            bytes = bytes.saturating_add(cost(idx[end]));
            end += 1;
        }
        out.push(start..end);
        start = end;
    }
    out
}

/// The rendering of one batch.
struct Rendered {
    out: Vec<u8>,
    /// Structures computed, to be cached.
    computed: Vec<(i64, String)>,
    /// Messages whose content could not be read.
    missing: usize,
}

fn render_batch(plan: &Plan, msgs: &[(u32, Msg, bool)], loaded: Vec<store::Loaded>) -> Rendered {
    let mut r = Rendered {
        out: Vec::new(),
        computed: Vec::new(),
        missing: 0,
    };
    for ((seq, m, flags_too), l) in msgs.iter().zip(loaded) {
        let structure = if plan.needs_structure() {
            match l.structure.as_deref().and_then(mime::from_cache) {
                Some(s) => Some(s),
                None => l.content.as_deref().map(|c| {
                    let s = mime::parse(c);
                    r.computed.push((m.message_id, mime::to_cache(&s)));
                    s
                }),
            }
        } else {
            None
        };
        if (plan.needs_structure() && structure.is_none())
            || (plan.needs_content() && l.content.is_none())
        {
            r.missing += 1;
            continue;
        }
        plan.render(
            &mut r.out,
            *seq,
            m,
            *flags_too,
            structure.as_ref(),
            l.content.as_deref(),
        );
    }
    r
}

impl Session {
    pub(super) async fn fetch(
        &mut self,
        set: SequenceSet,
        items: MacroOrMessageDataItemNames<'static>,
        uid: bool,
        modifiers: Vec<FetchModifier>,
    ) -> Done {
        let mut changed_since = None;
        let mut vanished = false;
        for m in modifiers {
            match m {
                FetchModifier::ChangedSince(n) => changed_since = Some(n.get()),
                FetchModifier::Vanished => vanished = true,
            }
        }
        if vanished {
            if !uid {
                return Done::bad("VANISHED is for UID FETCH only");
            }
            if !self.enabled.qresync {
                return Done::bad("QRESYNC is not enabled");
            }
            if changed_since.is_none() {
                return Done::bad("VANISHED needs CHANGEDSINCE");
            }
        }
        let mut plan = match Plan::new(&items, uid) {
            Ok(p) => p,
            Err(e) => return Done::bad(e),
        };
        if changed_since.is_some() || plan.has_modseq() {
            self.enable_condstore();
            if !plan.has_modseq() {
                plan.items.push(Item::ModSeq);
            }
        }
        plan.modseq_with_flags = self.enabled.condstore;
        if self.enabled.qresync && !plan.items.contains(&Item::Uid) {
            // after ENABLE QRESYNC every FETCH response carries the UID (RFC 7162)
            plan.items.insert(0, Item::Uid);
        }
        let Some(mut sel) = self.selected.take() else {
            return Done::bad("No mailbox selected");
        };
        let since = changed_since.map(|n| (n, vanished));
        let done = self.fetch_in(&mut sel, &set, uid, plan, since).await;
        self.selected = Some(sel);
        done
    }

    /// `* VANISHED (EARLIER)` for the UIDs of `set` expunged after `since` (and announced
    /// already: those still in the snapshot will be announced as usual).
    async fn vanished_earlier(&mut self, sel: &Selected, set: &SequenceSet, since: u64) -> Done {
        let since = i64::try_from(since).unwrap_or(i64::MAX);
        let v = match store::vanished(&self.ctx.db, self.account_id(), sel.folder_id, since).await {
            Ok(v) => v,
            Err(_) => return Done::unavailable(),
        };
        let wanted = Ranges::new(set, u32::MAX);
        let mut gone: Vec<(u32, u32)> = v
            .uids
            .iter()
            .filter_map(|&u| u32::try_from(u).ok())
            .filter(|&u| wanted.contains(u) && sel.index_of(u).is_none())
            .map(|u| (u, u))
            .collect();
        if !v.complete {
            // tombstones may have been purged: every UID of the set that is missing
            let present: Vec<u32> = sel.msgs.iter().map(|m| m.uid).collect();
            let top = u32::try_from(sel.next_uid - 1).unwrap_or(u32::MAX);
            gone.extend(sequence::gaps(wanted.ranges(), &present, top));
        }
        let gone = sequence::merge(gone);
        if !gone.is_empty() {
            response::line(
                &mut self.out,
                &format!("VANISHED (EARLIER) {}", sequence::ranges_text(&gone)),
            );
        }
        Done::ok("FETCH completed")
    }

    /// `since`: CHANGEDSINCE, and whether VANISHED was asked too.
    async fn fetch_in(
        &mut self,
        sel: &mut Selected,
        set: &SequenceSet,
        uid: bool,
        plan: Plan,
        since: Option<(u64, bool)>,
    ) -> Done {
        let mut idx = match sel.targets(set, uid) {
            Ok(i) => i,
            Err(_) => return Done::bad("Invalid message sequence number"),
        };
        if let Some((n, vanished)) = since {
            if vanished {
                let done = self.vanished_earlier(sel, set, n).await;
                if done.kind != response::Kind::Ok {
                    return done;
                }
            }
            idx.retain(|&i| u64::try_from(sel.msgs[i].modseq).unwrap_or(0) > n);
        }
        // \Seen first, so that the responses show it
        let mut seen_now: HashSet<u32> = HashSet::new();
        if plan.sets_seen && !sel.read_only {
            let targets: Vec<store::Target> = idx
                .iter()
                .map(|&i| &sel.msgs[i])
                .filter(|m| !m.expunged && !m.flags.has(flags::SEEN))
                .map(target)
                .collect();
            if !targets.is_empty() {
                let mut seen = Flags::default();
                seen.insert(flags::SEEN);
                let r = store::store_flags(
                    &self.ctx.db,
                    self.account_id(),
                    sel.folder_id,
                    sel.modseq,
                    targets,
                    StoreType::Add,
                    seen,
                    None,
                )
                .await;
                match r {
                    Ok(Ok(result)) => {
                        for s in result.stored {
                            let Some(i) = u32::try_from(s.uid).ok().and_then(|u| sel.index_of(u))
                            else {
                                continue;
                            };
                            sel.msgs[i].modseq = s.modseq;
                            if sel.msgs[i].flags != s.flags {
                                sel.msgs[i].flags = s.flags;
                                seen_now.insert(sel.msgs[i].uid);
                            }
                        }
                    }
                    Ok(Err(_)) => {}
                    Err(_) => return Done::unavailable(),
                }
            }
        }
        if !plan.needs_structure() && !plan.needs_content() {
            for &i in &idx {
                let m = &sel.msgs[i];
                plan.render(
                    &mut self.out,
                    i as u32 + 1,
                    m,
                    seen_now.contains(&m.uid),
                    None,
                    None,
                );
                if self.flush_if_large().await.is_err() {
                    return Done::ok("FETCH interrupted");
                }
            }
            return Done::ok("FETCH completed");
        }
        let mut missing = 0;
        let need = plan.content_need();
        for range in batches(sel, &idx, need) {
            let batch: Vec<(u32, Msg, bool)> = idx[range]
                .iter()
                .map(|&i| {
                    let m = sel.msgs[i].clone();
                    let changed = seen_now.contains(&m.uid);
                    (i as u32 + 1, m, changed)
                })
                .collect();
            let ids: Vec<i64> = batch.iter().map(|(_, m, _)| m.message_id).collect();
            let loaded = match store::load(&self.ctx.db, ids, plan.needs_structure(), need).await {
                Ok(l) => l,
                Err(_) => return Done::unavailable(),
            };
            let p = plan.clone();
            let rendered =
                match tokio::task::spawn_blocking(move || render_batch(&p, &batch, loaded)).await {
                    Ok(r) => r,
                    Err(e) => {
                        log::error!("imap fetch: {e}");
                        return Done::no("internal error").code("SERVERBUG");
                    }
                };
            missing += rendered.missing;
            self.out.extend_from_slice(&rendered.out);
            if self.flush().await.is_err() {
                return Done::ok("FETCH interrupted");
            }
            if !rendered.computed.is_empty() {
                let _ = store::save_structures(&self.ctx.db, rendered.computed).await;
            }
        }
        if missing > 0 {
            Done::no("Some of the requested messages no longer exist").code("EXPUNGEISSUED")
        } else {
            Done::ok("FETCH completed")
        }
    }
}
