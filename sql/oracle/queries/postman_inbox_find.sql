SELECT f.folder_id
FROM es_folder f
WHERE f.owner_account_id = :account_id AND f.folder_path = 'INBOX'
