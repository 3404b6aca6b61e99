UPDATE es_account
SET home_node_id = :home_node_id, password_hash = :password_hash, quota_bytes = :quota_bytes,
    account_status = :account_status, password_changed_at = :password_changed_at
WHERE object_id = :object_id
