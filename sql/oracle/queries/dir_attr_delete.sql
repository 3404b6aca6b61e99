DELETE FROM es_dir_attribute WHERE object_id = :object_id AND attr_name = :attr_name
