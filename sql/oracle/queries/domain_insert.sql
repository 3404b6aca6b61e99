INSERT INTO es_domain (guid, qualified_name, parent_domain_id, dcn_node_id, description, created_at)
VALUES (:guid, :qualified_name, :parent_domain_id, :dcn_node_id, :description, :created_at)
RETURNING domain_id INTO :domain_id
