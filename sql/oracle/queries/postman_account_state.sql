SELECT a.account_status, a.quota_bytes, a.used_bytes
FROM es_account a
WHERE a.object_id = :account_id
