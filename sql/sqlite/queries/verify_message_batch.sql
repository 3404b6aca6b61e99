SELECT message_id, size_bytes, sha256, content
FROM es_message
WHERE message_id > :after_id
ORDER BY message_id
LIMIT :batch_size
