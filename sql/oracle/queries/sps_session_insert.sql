INSERT INTO es_session (session_id, node_id, type_name, instance_no, protocol, remote_addr, login_name, account_id, session_state, started_at, last_active_at)
VALUES (:session_id, :node_id, :type_name, :instance_no, :protocol, :remote_addr, :login_name, :account_id, :session_state, :started_at, :last_active_at)
