//! FETCH and UID FETCH: `\Seen` set first (one write) when a body is fetched without PEEK,
//! then the messages in batches: one read per batch for the cached structures and the
//! contents, parsed and rendered on a blocking thread, structures not cached yet computed
//! once and stored.

use std::collections::HashSet;

use imap_codec::imap_types::command::FetchModifier;
use imap_codec::imap_types::fetch::MacroOrMessageDataItemNames;
use imap_codec::imap_types::flag::StoreType;
use imap_codec::imap_types::sequence::SequenceSet;

use super::cmd_select::target;
use super::fetch::Plan;
use super::flags::{self, Flags};
use super::mime;
use super::response::Done;
use super::selected::{Msg, Selected};
use super::session::Session;
use super::store;

/// Most bytes of content read in one transaction (at least one message is).
pub(super) const BATCH_BYTES: i64 = 8 * 1024 * 1024;
/// Most messages read in one transaction.
pub(super) const BATCH_MESSAGES: usize = 200;

/// Splits `idx` into batches by the messages' sizes.
pub(super) fn batches(sel: &Selected, idx: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < idx.len() {
        let mut end = start;
        let mut bytes = 0i64;
        while end < idx.len()
            && (end == start
                || (bytes.saturating_add(sel.msgs[idx[end]].size.max(0)) <= BATCH_BYTES
                    && end - start < BATCH_MESSAGES))
        {
            bytes = bytes.saturating_add(sel.msgs[idx[end]].size.max(0));
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
        if !modifiers.is_empty() {
            return Done::bad("FETCH modifiers are not supported");
        }
        let plan = match Plan::new(&items, uid) {
            Ok(p) => p,
            Err(e) => return Done::bad(e),
        };
        let Some(mut sel) = self.selected.take() else {
            return Done::bad("No mailbox selected");
        };
        let done = self.fetch_in(&mut sel, &set, uid, plan).await;
        self.selected = Some(sel);
        done
    }

    async fn fetch_in(
        &mut self,
        sel: &mut Selected,
        set: &SequenceSet,
        uid: bool,
        plan: Plan,
    ) -> Done {
        let idx = match sel.targets(set, uid) {
            Ok(i) => i,
            Err(_) => return Done::bad("Invalid message sequence number"),
        };
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
                )
                .await;
                match r {
                    Ok(Ok(changed)) => {
                        for (uid, f) in changed {
                            let Some(i) = u32::try_from(uid).ok().and_then(|u| sel.index_of(u))
                            else {
                                continue;
                            };
                            if sel.msgs[i].flags != f {
                                sel.msgs[i].flags = f;
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
        for range in batches(sel, &idx) {
            let batch: Vec<(u32, Msg, bool)> = idx[range]
                .iter()
                .map(|&i| {
                    let m = sel.msgs[i].clone();
                    let changed = seen_now.contains(&m.uid);
                    (i as u32 + 1, m, changed)
                })
                .collect();
            let ids: Vec<i64> = batch.iter().map(|(_, m, _)| m.message_id).collect();
            let loaded = match store::load(
                &self.ctx.db,
                ids,
                plan.needs_structure(),
                plan.needs_content(),
            )
            .await
            {
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
