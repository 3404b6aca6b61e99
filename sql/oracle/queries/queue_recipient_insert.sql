INSERT INTO es_queue_recipient (entry_id, rcpt_pos, address, rcpt_status)
VALUES (:entry_id, :rcpt_pos, :address, 'PENDING')
