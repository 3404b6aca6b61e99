UPDATE es_account
SET used_bytes = CASE WHEN used_bytes > :size_bytes THEN used_bytes - :size_bytes ELSE 0 END
WHERE object_id = :account_id
