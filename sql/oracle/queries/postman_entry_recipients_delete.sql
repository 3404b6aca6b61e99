DELETE FROM es_queue_recipient
WHERE entry_id IN (SELECT qe.entry_id FROM es_queue_entry qe
                   WHERE qe.entry_id = :entry_id AND qe.claimed_by = :claimed_by)
