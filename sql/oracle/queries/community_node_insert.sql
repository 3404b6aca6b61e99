INSERT INTO es_community_node (community_id, node_id) VALUES (:community_id, :node_id)
