UPDATE es_admin_request
SET request_state = 'DONE', done_at = :done_at, result_text = :result_text, error_text = NULL
WHERE request_id = :request_id
