SELECT p.mime_type, p.attachment_type, p.file_name
FROM es_message_part p
WHERE p.message_id = :message_id
ORDER BY p.part_no
