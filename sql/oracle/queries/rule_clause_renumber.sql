UPDATE es_rule_clause
SET clause_no = :new_no
WHERE rule_id = :rule_id AND clause_no = :clause_no
