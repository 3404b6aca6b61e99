SELECT m.mime_type, m.attachment_type FROM es_mime_map m
