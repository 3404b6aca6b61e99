UPDATE es_dir_object SET modified_at = :modified_at WHERE object_id = :object_id
