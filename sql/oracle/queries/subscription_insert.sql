INSERT INTO es_subscription (account_id, folder_path) VALUES (:account_id, :folder_path)
