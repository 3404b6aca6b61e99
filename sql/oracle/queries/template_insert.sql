INSERT INTO es_template (object_id, subject, body_text) VALUES (:object_id, :subject, :body_text)
