SELECT s.structure
FROM es_message_structure s
WHERE s.message_id = :message_id
