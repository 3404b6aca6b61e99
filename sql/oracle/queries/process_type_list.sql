SELECT type_name, description, max_instances FROM es_process_type ORDER BY type_name
