UPDATE es_mailbox_request
SET request_state = 'FAILED', done_at = :done_at, error_text = :error_text
WHERE request_id = :request_id
