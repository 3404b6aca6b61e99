UPDATE es_mailbox_request
SET attempts = attempts + 1
WHERE request_id = :request_id AND request_state = 'PENDING'
