SELECT o.object_id, a.password_hash, a.account_status
FROM es_domain d
JOIN es_dir_object o ON o.domain_id = d.domain_id
JOIN es_account a ON a.object_id = o.object_id
WHERE d.qualified_name = :domain_name AND o.owner_scope = 0 AND o.name_key = :name_key
