UPDATE es_autoreply_memory
SET replied_at = :replied_at
WHERE account_id = :account_id AND sender_key = :sender_key
