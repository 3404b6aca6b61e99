SELECT p.node_id, p.type_name, p.instance_no, p.desired_state, p.actual_state, p.pid, p.host_name,
       p.started_at, p.restarts, p.last_exit, p.last_exit_at, p.refresh_seq, p.registered_at, p.heartbeat_at
FROM es_process p
WHERE p.node_id = :node_id AND (:type_name IS NULL OR p.type_name = :type_name)
  AND (:instance_no = 0 OR p.instance_no = :instance_no)
ORDER BY p.type_name, p.instance_no
