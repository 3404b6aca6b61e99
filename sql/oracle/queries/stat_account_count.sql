SELECT COUNT(*) FROM es_account WHERE home_node_id = :node_id
