DELETE FROM es_rule_clause
WHERE rule_id = :rule_id AND clause_no = :clause_no
