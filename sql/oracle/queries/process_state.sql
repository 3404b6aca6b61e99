UPDATE es_process SET actual_state = :actual_state WHERE node_id = :node_id AND type_name = :type_name AND instance_no = :instance_no
