SELECT a.object_id, a.target_address, a.target_object_id
FROM es_alias a JOIN es_dir_object o ON o.object_id = a.object_id
WHERE o.object_class = :object_class AND (:domain_id = 0 OR o.domain_id = :domain_id)
