UPDATE es_mailbox_request
SET request_state = 'DONE', done_at = :done_at, result_uid = :result_uid, error_text = NULL
WHERE request_id = :request_id
