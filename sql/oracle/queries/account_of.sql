SELECT a.object_id, n.node_name, a.password_hash, a.quota_bytes, a.used_bytes, a.account_status, a.home_node_id, a.password_changed_at
FROM es_account a JOIN es_node n ON n.node_id = a.home_node_id
WHERE a.object_id = :object_id
