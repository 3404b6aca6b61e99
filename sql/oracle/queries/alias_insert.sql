INSERT INTO es_alias (object_id, target_address, target_object_id) VALUES (:object_id, :target_address, :target_object_id)
