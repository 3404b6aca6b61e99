SELECT a.action_no, a.action_kind, a.param1, a.param2, a.param3
FROM es_rule_action a
WHERE a.rule_id = :rule_id
ORDER BY a.action_no
