SELECT account_id, sender_key
FROM es_autoreply_memory
WHERE replied_at < :cutoff
ORDER BY replied_at, account_id, sender_key
LIMIT :batch_size
