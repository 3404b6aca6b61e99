INSERT INTO es_dir_attribute (object_id, attr_name, attr_value, value_key)
VALUES (:object_id, :attr_name, :attr_value, :value_key)
