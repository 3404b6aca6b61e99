SELECT o.object_id, o.object_class, o.object_name, o.domain_id, d.qualified_name, a.home_node_id
FROM es_dir_object o
JOIN es_domain d ON d.domain_id = o.domain_id
LEFT JOIN es_account a ON a.object_id = o.object_id
WHERE o.object_id = :object_id
