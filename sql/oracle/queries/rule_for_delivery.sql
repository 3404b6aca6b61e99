SELECT r.rule_id, r.owner_kind, r.rule_name, r.position, r.cond_join
FROM es_rule r
WHERE r.active = 1
  AND r.event_name = :event_name
  AND (r.owner_kind = 'SYSTEM'
       OR (r.owner_kind = 'DOMAIN' AND r.domain_id = :domain_id)
       OR (r.owner_kind = 'ACCOUNT' AND r.account_id = :account_id))
ORDER BY CASE r.owner_kind WHEN 'SYSTEM' THEN 1 WHEN 'DOMAIN' THEN 2 ELSE 3 END,
         r.position, r.rule_id
