UPDATE es_rule
SET position = :position, description = :description, group_name = :group_name
WHERE rule_id = :rule_id
