UPDATE es_process
SET actual_state = :actual_state, pid = NULL, heartbeat_at = NULL,
    restarts = restarts + :restart_increment, last_exit = :last_exit, last_exit_at = :last_exit_at
WHERE node_id = :node_id AND type_name = :type_name AND instance_no = :instance_no
