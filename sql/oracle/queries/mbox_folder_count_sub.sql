UPDATE es_folder
SET message_count = message_count - :removed
WHERE folder_id = :folder_id
