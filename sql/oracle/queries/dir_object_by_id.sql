SELECT o.object_id, o.guid, o.object_class, o.object_name, o.domain_id, o.owner_scope, d.qualified_name
FROM es_dir_object o JOIN es_domain d ON d.domain_id = o.domain_id
WHERE o.object_id = :object_id
