SELECT m.structure
FROM es_message m
WHERE m.message_id = :message_id
