SELECT p.type_name, p.instance_no, p.actual_state, p.pid, p.host_name, p.session_count,
       p.pool_size, p.pool_in_use, p.pool_idle, p.pool_waiting, p.load_at
FROM es_process p
WHERE p.node_id = :node_id AND p.type_name IN ('pop3srv', 'imap4srv')
ORDER BY p.type_name, p.instance_no
