INSERT INTO es_rule (owner_kind, account_id, domain_id, event_name, rule_name, position, active, description, group_name, cond_join, created_at)
VALUES (:owner_kind, :account_id, :domain_id, :event_name, :rule_name, :position, :active, :description, :group_name, NULL, :created_at)
RETURNING rule_id INTO :rule_id
