SELECT d.domain_id, o.object_id, o.object_class, a.account_status, a.quota_bytes, a.used_bytes
FROM es_domain d
LEFT JOIN es_dir_object o
  ON o.domain_id = d.domain_id AND o.owner_scope = 0 AND o.name_key = :name_key
 AND o.object_class NOT IN ('PUBLICTEMPLATE', 'PRIVATETEMPLATE')
LEFT JOIN es_account a ON a.object_id = o.object_id
WHERE d.qualified_name = :domain_name
