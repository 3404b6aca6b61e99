DELETE FROM es_community_node WHERE node_id = :node_id
