SELECT o.object_id, o.object_class, o.object_name, o.domain_id, d.qualified_name, a.home_node_id
FROM es_dir_attribute t
JOIN es_dir_object o ON o.object_id = t.object_id
JOIN es_domain d ON d.domain_id = o.domain_id
JOIN es_account a ON a.object_id = o.object_id
WHERE t.attr_name = :attr_name AND t.value_key = :value_key AND o.object_class = 'PERSON'
ORDER BY o.object_id
