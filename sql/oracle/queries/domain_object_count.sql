SELECT COUNT(*) FROM es_dir_object WHERE domain_id = :domain_id
