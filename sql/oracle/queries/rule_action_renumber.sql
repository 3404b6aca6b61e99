UPDATE es_rule_action
SET action_no = :new_no
WHERE rule_id = :rule_id AND action_no = :action_no
