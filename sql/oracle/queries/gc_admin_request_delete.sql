DELETE FROM es_admin_request
WHERE request_id = :request_id AND request_state IN ('DONE', 'FAILED') AND done_at < :cutoff
