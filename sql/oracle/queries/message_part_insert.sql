INSERT INTO es_message_part (message_id, part_no, mime_type, attachment_type, file_name, size_bytes)
VALUES (:message_id, :part_no, :mime_type, :attachment_type, :file_name, :size_bytes)
