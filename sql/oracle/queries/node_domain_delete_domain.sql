DELETE FROM es_node_domain WHERE domain_id = :domain_id
