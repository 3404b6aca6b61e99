-- esmail schema, step 4 (embedded store, SQLite dialect): the MIME parts of messages.
-- The gateway parses each message's MIME structure once, at arrival, and records every leaf
-- part with its attachment type, mapped through es_mime_map (the seed's MIME attachment
-- types and maps). The content itself stays byte-exact in es_message.

CREATE TABLE es_message_part (
  message_id     INTEGER NOT NULL REFERENCES es_message (message_id) ON DELETE CASCADE,
  part_no        INTEGER NOT NULL CHECK (part_no > 0),
  mime_type      TEXT    NOT NULL,
  attachment_type TEXT   NOT NULL REFERENCES es_attachment_type (attachment_type),
  file_name      TEXT,
  size_bytes     INTEGER NOT NULL CHECK (size_bytes >= 0),
  PRIMARY KEY (message_id, part_no)
);
CREATE INDEX es_message_part_type ON es_message_part (attachment_type);

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (4, 'message parts', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'esmail');
