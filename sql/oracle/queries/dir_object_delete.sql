DELETE FROM es_dir_object WHERE object_id = :object_id
