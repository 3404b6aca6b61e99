UPDATE es_process
SET actual_state = 'STARTING', pid = :pid, host_name = :host_name, started_at = :started_at,
    heartbeat_at = :heartbeat_at
WHERE node_id = :node_id AND type_name = :type_name AND instance_no = :instance_no
  AND NOT (actual_state = 'RUNNING' AND pid = :pid)
