SELECT o.object_id FROM es_dir_object o WHERE o.owner_scope = :owner_scope
