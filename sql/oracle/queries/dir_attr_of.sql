SELECT a.object_id, a.attr_name, a.attr_value FROM es_dir_attribute a WHERE a.object_id = :object_id
