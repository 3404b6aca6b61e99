DELETE FROM es_node WHERE node_id = :node_id
