DELETE FROM es_dir_attribute WHERE attr_name = :attr_name AND value_key = :value_key
