SELECT r.rule_id, r.guid, r.rule_name, r.rule_pos, r.pattern, r.replacement, r.description, r.enabled, r.created_at FROM es_rewriting_rule r ORDER BY r.rule_pos, r.rule_name
