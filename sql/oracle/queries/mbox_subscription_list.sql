SELECT s.folder_path
FROM es_subscription s
WHERE s.account_id = :account_id
ORDER BY s.folder_path
