UPDATE es_admin_request
SET attempts = attempts + 1
WHERE request_id = :request_id AND request_state = 'PENDING'
