SELECT COUNT(*) FROM es_folder
