UPDATE es_rule
SET active = :active
WHERE rule_id = :rule_id
