SELECT t.object_id, t.subject, t.body_text FROM es_template t WHERE t.object_id = :object_id
