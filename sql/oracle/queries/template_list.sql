SELECT t.object_id, t.subject, t.body_text
FROM es_template t JOIN es_dir_object o ON o.object_id = t.object_id
WHERE o.object_class = :object_class AND (:domain_id = 0 OR o.domain_id = :domain_id)
