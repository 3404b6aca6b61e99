SELECT o.object_id, o.object_class, o.object_name, d.qualified_name, a.attr_name
FROM es_dir_attribute a
JOIN es_dir_object o ON o.object_id = a.object_id
JOIN es_domain d ON d.domain_id = o.domain_id
WHERE a.attr_name = :attr_name AND a.value_key = :value_key
ORDER BY d.qualified_name, o.name_key
