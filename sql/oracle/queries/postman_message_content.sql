SELECT m.content
FROM es_message m
WHERE m.message_id = :message_id
