INSERT INTO es_rewriting_rule (guid, rule_name, rule_pos, pattern, replacement, description, enabled, created_at)
VALUES (:guid, :rule_name, :rule_pos, :pattern, :replacement, :description, :enabled, :created_at)
RETURNING rule_id INTO :rule_id
