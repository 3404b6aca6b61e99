UPDATE es_rule
SET cond_join = :cond_join
WHERE rule_id = :rule_id
