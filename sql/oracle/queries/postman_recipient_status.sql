UPDATE es_queue_recipient
SET rcpt_status = :rcpt_status, last_error = :last_error
WHERE entry_id = :entry_id AND rcpt_pos = :rcpt_pos AND rcpt_status IN ('PENDING', 'DEFERRED')
