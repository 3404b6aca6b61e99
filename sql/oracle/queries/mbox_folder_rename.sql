UPDATE es_folder
SET folder_path = :new_path
WHERE folder_id = :folder_id AND owner_account_id = :account_id
