UPDATE es_message
SET pointer_count = pointer_count - 1
WHERE message_id = :message_id AND pointer_count > 0
