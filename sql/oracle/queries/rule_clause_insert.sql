INSERT INTO es_rule_clause (rule_id, clause_no, subject_kind, header_name, operator, negated, operand)
VALUES (:rule_id, :clause_no, :subject_kind, :header_name, :operator, :negated, :operand)
