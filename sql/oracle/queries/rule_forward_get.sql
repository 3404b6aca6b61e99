SELECT f.forwarded_at
FROM es_rule_forward f
WHERE f.message_id = :message_id AND f.account_id = :account_id
