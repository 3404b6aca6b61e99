INSERT INTO es_rule_action (rule_id, action_no, action_kind, param1, param2, param3)
VALUES (:rule_id, :action_no, :action_kind, :param1, :param2, :param3)
