SELECT COALESCE(MAX(r.rcpt_pos), 0)
FROM es_queue_recipient r
WHERE r.entry_id = :entry_id
