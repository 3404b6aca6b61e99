UPDATE es_domain SET dcn_node_id = :dcn_node_id, description = :description, parent_domain_id = :parent_domain_id
WHERE domain_id = :domain_id
