UPDATE es_rewriting_rule
SET rule_pos = :rule_pos, pattern = :pattern, replacement = :replacement, description = :description, enabled = :enabled
WHERE rule_id = :rule_id
