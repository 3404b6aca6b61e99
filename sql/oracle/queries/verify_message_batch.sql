SELECT message_id, size_bytes, sha256, content
FROM es_message
WHERE message_id > :after_id
ORDER BY message_id
FETCH FIRST :batch_size ROWS ONLY
