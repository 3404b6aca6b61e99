-- esmail schema, step 7 (embedded store, SQLite dialect): what the PL/SQL APIs need.
-- The same logical change as sql/oracle/steps/V007__mailbox_requests.sql (see there). The
-- embedded store has no PL/SQL, but it has the same tables, and its Postman performs the
-- requests someone writes into them.

CREATE TABLE es_mailbox_request (
  request_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id    INTEGER NOT NULL REFERENCES es_account (object_id) ON DELETE CASCADE,
  request_kind  TEXT    NOT NULL CHECK (request_kind IN ('CREATE_FOLDER', 'DELETE_FOLDER', 'APPEND', 'COPY', 'MOVE', 'DELETE_MESSAGE', 'SET_FLAGS')),
  folder_path   TEXT,
  folder_id     INTEGER,
  msg_uid       INTEGER,
  message_id    INTEGER,
  target_path   TEXT,
  params        TEXT,
  request_state TEXT    NOT NULL DEFAULT 'PENDING' CHECK (request_state IN ('PENDING', 'DONE', 'FAILED')),
  attempts      INTEGER NOT NULL DEFAULT 0,
  requested_by  TEXT,
  created_at    TEXT    NOT NULL,
  done_at       TEXT,
  result_uid    INTEGER,
  error_text    TEXT
);
CREATE INDEX es_mailbox_request_state ON es_mailbox_request (request_state, request_id);
CREATE INDEX es_mailbox_request_account ON es_mailbox_request (account_id);
CREATE INDEX es_mailbox_request_message ON es_mailbox_request (message_id);

CREATE TABLE es_admin_request (
  request_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  statement_text TEXT    NOT NULL,
  request_state  TEXT    NOT NULL DEFAULT 'PENDING' CHECK (request_state IN ('PENDING', 'DONE', 'FAILED')),
  attempts       INTEGER NOT NULL DEFAULT 0,
  requested_by   TEXT,
  created_at     TEXT    NOT NULL,
  done_at        TEXT,
  result_text    TEXT,
  error_text     TEXT
);
CREATE INDEX es_admin_request_state ON es_admin_request (request_state, request_id);

CREATE TABLE es_api_user (
  api_user_id   INTEGER PRIMARY KEY AUTOINCREMENT,
  db_user       TEXT    NOT NULL,
  account_id    INTEGER REFERENCES es_account (object_id) ON DELETE CASCADE,
  may_admin     INTEGER NOT NULL DEFAULT 0 CHECK (may_admin IN (0, 1)),
  created_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX es_api_user_key ON es_api_user (db_user, COALESCE(account_id, 0));

ALTER TABLE es_message_part ADD COLUMN body_offset INTEGER;
ALTER TABLE es_message_part ADD COLUMN body_bytes INTEGER;
ALTER TABLE es_message_part ADD COLUMN transfer_encoding TEXT;

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (7, 'mailbox and directory requests from PL/SQL', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'esmail');
