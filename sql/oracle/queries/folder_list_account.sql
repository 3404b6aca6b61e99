SELECT f.folder_id, f.folder_path, f.message_count, f.uidvalidity
FROM es_folder f WHERE f.owner_account_id = :owner_account_id ORDER BY f.folder_path
