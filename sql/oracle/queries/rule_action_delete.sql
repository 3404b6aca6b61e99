DELETE FROM es_rule_action
WHERE rule_id = :rule_id
