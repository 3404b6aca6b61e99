DELETE FROM es_rule_action
WHERE rule_id = :rule_id AND action_no = :action_no
