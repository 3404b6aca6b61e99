DELETE FROM es_queue_recipient
WHERE entry_id = :entry_id AND rcpt_pos = :rcpt_pos AND rcpt_status = 'PENDING'
