SELECT r.entry_id, r.rcpt_pos, r.address
FROM es_queue_recipient r
WHERE NOT EXISTS (SELECT 1 FROM es_queue_entry qe WHERE qe.entry_id = r.entry_id)
ORDER BY r.entry_id, r.rcpt_pos
