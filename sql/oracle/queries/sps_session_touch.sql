UPDATE es_session
SET last_active_at = :last_active_at
WHERE node_id = :node_id AND type_name = :type_name AND instance_no = :instance_no
