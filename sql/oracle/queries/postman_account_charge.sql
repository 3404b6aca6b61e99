UPDATE es_account
SET used_bytes = used_bytes + :size_bytes
WHERE object_id = :account_id
  AND account_status = 'ENABLED'
  AND (quota_bytes = 0 OR used_bytes + :size_bytes <= quota_bytes)
