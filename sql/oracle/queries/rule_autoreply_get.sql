SELECT m.replied_at
FROM es_autoreply_memory m
WHERE m.account_id = :account_id AND m.sender_key = :sender_key
