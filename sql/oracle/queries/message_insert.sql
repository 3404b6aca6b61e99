INSERT INTO es_message (guid, origin_node_id, size_bytes, sha256, rfc822_msgid, received_at, pointer_count, content)
VALUES (:guid, :origin_node_id, :size_bytes, :sha256, :rfc822_msgid, :received_at, 0, :content)
RETURNING message_id INTO :message_id
