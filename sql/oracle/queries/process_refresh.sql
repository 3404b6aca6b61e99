UPDATE es_process SET refresh_seq = refresh_seq + 1 WHERE node_id = :node_id AND type_name = :type_name AND instance_no = :instance_no
