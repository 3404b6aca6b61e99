DELETE FROM es_folder
WHERE folder_id = :folder_id AND owner_account_id = :account_id
