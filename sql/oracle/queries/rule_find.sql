SELECT r.rule_id, r.position, r.active, r.cond_join, r.description, r.group_name
FROM es_rule r
WHERE r.owner_kind = :owner_kind
  AND COALESCE(r.account_id, 0) = :account_key
  AND COALESCE(r.domain_id, 0) = :domain_key
  AND r.event_name = :event_name
  AND r.rule_name = :rule_name
