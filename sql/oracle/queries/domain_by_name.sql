SELECT d.domain_id, d.guid, d.qualified_name, p.qualified_name, n.node_name, d.description, d.created_at, d.dcn_node_id, d.parent_domain_id
FROM es_domain d
JOIN es_node n ON n.node_id = d.dcn_node_id
LEFT JOIN es_domain p ON p.domain_id = d.parent_domain_id
WHERE d.qualified_name = :qualified_name
