SELECT DISTINCT a.param1
FROM es_rule_action a
WHERE a.action_kind = 'REPLY'
