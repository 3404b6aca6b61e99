UPDATE es_message_part
SET body_offset = :body_offset, body_bytes = :body_bytes, transfer_encoding = :transfer_encoding
WHERE message_id = :message_id AND part_no = :part_no
