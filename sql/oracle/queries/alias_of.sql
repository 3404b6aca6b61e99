SELECT a.object_id, a.target_address, a.target_object_id FROM es_alias a WHERE a.object_id = :object_id
