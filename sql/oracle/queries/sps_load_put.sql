UPDATE es_process
SET session_count = :session_count, pool_size = :pool_size, pool_in_use = :pool_in_use,
    pool_idle = :pool_idle, pool_waiting = :pool_waiting, load_at = :load_at
WHERE node_id = :node_id AND type_name = :type_name AND instance_no = :instance_no
