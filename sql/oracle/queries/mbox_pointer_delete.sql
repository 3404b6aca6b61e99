DELETE FROM es_folder_message
WHERE folder_id = :folder_id AND msg_uid = :msg_uid
