UPDATE es_folder
SET recent_uid = next_uid
WHERE folder_id = :folder_id
