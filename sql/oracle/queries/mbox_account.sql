SELECT a.object_id, o.domain_id, a.quota_bytes, a.used_bytes, a.account_status
FROM es_account a
JOIN es_dir_object o ON o.object_id = a.object_id
WHERE a.object_id = :account_id
