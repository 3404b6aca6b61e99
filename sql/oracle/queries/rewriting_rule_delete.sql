DELETE FROM es_rewriting_rule WHERE rule_id = :rule_id
