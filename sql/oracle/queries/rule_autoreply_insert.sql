INSERT INTO es_autoreply_memory (account_id, sender_key, replied_at)
VALUES (:account_id, :sender_key, :replied_at)
