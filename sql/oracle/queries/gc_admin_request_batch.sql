SELECT request_id
FROM es_admin_request
WHERE request_state IN ('DONE', 'FAILED') AND done_at < :cutoff
ORDER BY done_at, request_id
FETCH FIRST :batch_size ROWS ONLY
