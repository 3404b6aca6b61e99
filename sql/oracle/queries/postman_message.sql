SELECT m.message_id, m.guid, m.size_bytes, m.received_at, m.rfc822_msgid
FROM es_message m
WHERE m.message_id = :message_id
