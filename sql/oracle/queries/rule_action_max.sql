SELECT MAX(a.action_no)
FROM es_rule_action a
WHERE a.rule_id = :rule_id
