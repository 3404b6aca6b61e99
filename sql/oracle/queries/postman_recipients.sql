SELECT r.rcpt_pos, r.address, r.rcpt_status, r.last_error
FROM es_queue_recipient r
WHERE r.entry_id = :entry_id
ORDER BY r.rcpt_pos
