DELETE FROM es_autoreply_memory
WHERE account_id = :account_id AND sender_key = :sender_key AND replied_at < :cutoff
