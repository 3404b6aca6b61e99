SELECT a.object_id, n.node_name, a.password_hash, a.quota_bytes, a.used_bytes, a.account_status, a.home_node_id, a.password_changed_at
FROM es_account a
JOIN es_dir_object o ON o.object_id = a.object_id
JOIN es_node n ON n.node_id = a.home_node_id
WHERE o.object_class = :object_class AND (:domain_id = 0 OR o.domain_id = :domain_id)
