SELECT o.object_id, o.object_class, o.object_name, o.domain_id, d.qualified_name, a.home_node_id
FROM es_dir_object o
JOIN es_domain d ON d.domain_id = o.domain_id
LEFT JOIN es_account a ON a.object_id = o.object_id
WHERE o.domain_id = :domain_id AND o.owner_scope = 0 AND o.name_key = :name_key
