SELECT COUNT(*) FROM es_folder_message
