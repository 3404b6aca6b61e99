SELECT a.object_id, a.attr_name, a.attr_value
FROM es_dir_attribute a JOIN es_dir_object o ON o.object_id = a.object_id
WHERE o.object_class = :object_class AND (:domain_id = 0 OR o.domain_id = :domain_id)
