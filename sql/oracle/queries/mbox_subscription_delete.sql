DELETE FROM es_subscription
WHERE account_id = :account_id AND folder_path = :folder_path
