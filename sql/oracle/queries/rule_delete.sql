DELETE FROM es_rule
WHERE rule_id = :rule_id
