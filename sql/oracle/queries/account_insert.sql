INSERT INTO es_account (object_id, home_node_id, password_hash, quota_bytes, used_bytes, account_status, password_changed_at)
VALUES (:object_id, :home_node_id, :password_hash, :quota_bytes, 0, :account_status, :password_changed_at)
