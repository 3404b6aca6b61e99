SELECT a.target_object_id FROM es_alias a WHERE a.object_id = :object_id
