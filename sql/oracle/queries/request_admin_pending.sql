SELECT r.request_id
FROM es_admin_request r
WHERE r.request_state = 'PENDING'
ORDER BY r.request_id
FETCH FIRST :batch_size ROWS ONLY
