DELETE FROM es_node_domain WHERE node_id = :node_id
