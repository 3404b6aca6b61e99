SELECT o.object_id, o.guid, o.object_class, o.object_name, o.domain_id, o.owner_scope, d.qualified_name
FROM es_dir_object o JOIN es_domain d ON d.domain_id = o.domain_id
WHERE o.object_class = :object_class AND (:domain_id = 0 OR o.domain_id = :domain_id)
ORDER BY d.qualified_name, o.name_key, o.owner_scope
