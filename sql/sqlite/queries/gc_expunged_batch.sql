SELECT folder_id, msg_uid
FROM es_expunged
WHERE expunged_at < :cutoff
ORDER BY expunged_at, folder_id, msg_uid
LIMIT :batch_size
