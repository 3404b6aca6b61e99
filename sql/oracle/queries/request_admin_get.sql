SELECT r.request_id, r.statement_text, r.attempts, r.requested_by
FROM es_admin_request r
WHERE r.request_id = :request_id
