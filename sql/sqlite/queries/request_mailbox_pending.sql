SELECT r.request_id
FROM es_mailbox_request r
WHERE r.request_state = 'PENDING'
ORDER BY r.request_id
LIMIT :batch_size
