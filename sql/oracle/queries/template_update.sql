UPDATE es_template SET subject = :subject, body_text = :body_text WHERE object_id = :object_id
