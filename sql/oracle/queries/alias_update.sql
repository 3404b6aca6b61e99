UPDATE es_alias SET target_address = :target_address, target_object_id = :target_object_id WHERE object_id = :object_id
