SELECT p.refresh_seq, p.desired_state, p.pid, p.heartbeat_at
FROM es_process p
WHERE p.node_id = :node_id AND p.type_name = :type_name AND p.instance_no = :instance_no
