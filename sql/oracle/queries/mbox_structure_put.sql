INSERT INTO es_message_structure (message_id, structure)
VALUES (:message_id, :structure)
