-- esmail schema, step 4 (Oracle dialect): the MIME parts of messages.
-- The same logical change as sql/sqlite/steps/V004__message_parts.sql.
-- Run by install.sql / upgrade.sql (SQL*Plus), or by `esmail upgrade`.

CREATE TABLE es_message_part (
  message_id      NUMBER(19)          NOT NULL,
  part_no         NUMBER(10)          NOT NULL,
  mime_type       VARCHAR2(255 CHAR)  NOT NULL,
  attachment_type VARCHAR2(32 CHAR)   NOT NULL,
  file_name       VARCHAR2(255 CHAR),
  size_bytes      NUMBER(19)          NOT NULL,
  CONSTRAINT es_message_part_pk PRIMARY KEY (message_id, part_no)
    USING INDEX TABLESPACE &&index_tablespace,
  CONSTRAINT es_message_part_msg_fk FOREIGN KEY (message_id)
    REFERENCES es_message (message_id) ON DELETE CASCADE,
  CONSTRAINT es_message_part_type_fk FOREIGN KEY (attachment_type)
    REFERENCES es_attachment_type (attachment_type),
  CONSTRAINT es_message_part_no_ck CHECK (part_no > 0),
  CONSTRAINT es_message_part_size_ck CHECK (size_bytes >= 0)
) TABLESPACE &&data_tablespace;

CREATE INDEX es_message_part_type ON es_message_part (attachment_type) TABLESPACE &&index_tablespace;

COMMENT ON TABLE es_message_part IS 'The leaf MIME parts of each stored message, with the attachment type mapped through ES_MIME_MAP at arrival';
COMMENT ON COLUMN es_message_part.part_no IS 'Position of the part in the message''s MIME tree, in parse order, from 1';
COMMENT ON COLUMN es_message_part.size_bytes IS 'Decoded size of the part';

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (4, 'message parts', SYSTIMESTAMP, USER);

COMMIT;
