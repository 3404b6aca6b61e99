SELECT o.object_id, a.password_hash, a.account_status
FROM es_dir_object o
JOIN es_account a ON a.object_id = o.object_id
WHERE o.owner_scope = 0 AND o.name_key = :name_key
