INSERT INTO es_rule_forward (message_id, account_id, forwarded_at)
VALUES (:message_id, :account_id, :forwarded_at)
