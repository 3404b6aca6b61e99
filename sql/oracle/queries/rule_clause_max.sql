SELECT MAX(c.clause_no)
FROM es_rule_clause c
WHERE c.rule_id = :rule_id
