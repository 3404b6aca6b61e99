UPDATE es_message
SET structure = :structure
WHERE message_id = :message_id
