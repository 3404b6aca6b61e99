UPDATE es_process SET heartbeat_at = :heartbeat_at WHERE node_id = :node_id AND type_name = :type_name AND instance_no = :instance_no AND pid = :pid
