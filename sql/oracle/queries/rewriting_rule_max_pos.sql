SELECT MAX(rule_pos) FROM es_rewriting_rule
