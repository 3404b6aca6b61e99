SELECT c.clause_no, c.subject_kind, c.header_name, c.operator, c.negated, c.operand
FROM es_rule_clause c
WHERE c.rule_id = :rule_id
ORDER BY c.clause_no
