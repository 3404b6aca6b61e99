SELECT o.object_id, o.object_class, o.object_name, d.qualified_name
FROM es_alias a
JOIN es_dir_object o ON o.object_id = a.object_id
JOIN es_domain d ON d.domain_id = o.domain_id
WHERE a.target_object_id = :object_id
ORDER BY d.qualified_name, o.name_key
