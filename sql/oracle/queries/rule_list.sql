SELECT r.rule_id, r.owner_kind, r.account_id, r.domain_id, r.event_name, r.rule_name, r.position,
       r.active, r.description, r.group_name, r.cond_join, o.object_name, d.qualified_name
FROM es_rule r
LEFT JOIN es_dir_object o ON o.object_id = r.account_id
LEFT JOIN es_domain d ON d.domain_id = COALESCE(r.domain_id, o.domain_id)
ORDER BY CASE r.owner_kind WHEN 'SYSTEM' THEN 1 WHEN 'DOMAIN' THEN 2 ELSE 3 END,
         d.qualified_name, o.name_key, r.event_name, r.position, r.rule_id
