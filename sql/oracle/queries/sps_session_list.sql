SELECT s.type_name, s.instance_no, s.session_id, s.protocol, s.remote_addr, s.login_name, s.session_state, s.started_at, s.last_active_at
FROM es_session s
WHERE s.node_id = :node_id
ORDER BY s.type_name, s.instance_no, s.started_at, s.session_id
