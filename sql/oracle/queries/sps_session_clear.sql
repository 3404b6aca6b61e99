DELETE FROM es_session
WHERE node_id = :node_id AND type_name = :type_name AND instance_no = :instance_no
