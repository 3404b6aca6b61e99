-- esmail schema, step 6 (embedded store, SQLite dialect): server-side rules.
-- The same logical change as sql/oracle/steps/V006__rules.sql (see there).

CREATE TABLE es_rule (
  rule_id       INTEGER PRIMARY KEY AUTOINCREMENT,
  owner_kind    TEXT    NOT NULL,
  account_id    INTEGER REFERENCES es_account (object_id) ON DELETE CASCADE,
  domain_id     INTEGER REFERENCES es_domain (domain_id) ON DELETE CASCADE,
  event_name    TEXT    NOT NULL DEFAULT 'DELIVERY' CHECK (event_name IN ('DELIVERY')),
  rule_name     TEXT    NOT NULL,
  position      INTEGER NOT NULL CHECK (position > 0),
  active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  description   TEXT,
  group_name    TEXT,
  cond_join     TEXT    CHECK (cond_join IN ('AND', 'OR')),
  created_at    TEXT    NOT NULL,
  CHECK ((owner_kind = 'ACCOUNT' AND account_id IS NOT NULL AND domain_id IS NULL)
      OR (owner_kind = 'DOMAIN' AND account_id IS NULL AND domain_id IS NOT NULL)
      OR (owner_kind = 'SYSTEM' AND account_id IS NULL AND domain_id IS NULL))
);
CREATE UNIQUE INDEX es_rule_name ON es_rule (owner_kind, COALESCE(account_id, 0), COALESCE(domain_id, 0), event_name, rule_name);
CREATE INDEX es_rule_account ON es_rule (account_id, event_name, position);
CREATE INDEX es_rule_domain ON es_rule (domain_id, event_name, position);

CREATE TABLE es_rule_clause (
  rule_id       INTEGER NOT NULL REFERENCES es_rule (rule_id) ON DELETE CASCADE,
  clause_no     INTEGER NOT NULL CHECK (clause_no > 0),
  subject_kind  TEXT    NOT NULL CHECK (subject_kind IN ('HEADER', 'SENDER', 'RECIPIENT', 'SUBJECT', 'SIZE', 'BODY', 'ATTACHMENT')),
  header_name   TEXT,
  operator      TEXT    NOT NULL CHECK (operator IN ('CONTAINS', 'EQUALS', 'MATCHES', 'GREATER', 'LESS')),
  negated       INTEGER NOT NULL DEFAULT 0 CHECK (negated IN (0, 1)),
  operand       TEXT    NOT NULL,
  PRIMARY KEY (rule_id, clause_no),
  CHECK ((subject_kind = 'HEADER' AND header_name IS NOT NULL) OR (subject_kind <> 'HEADER' AND header_name IS NULL))
);

CREATE TABLE es_rule_action (
  rule_id       INTEGER NOT NULL REFERENCES es_rule (rule_id) ON DELETE CASCADE,
  action_no     INTEGER NOT NULL CHECK (action_no > 0),
  action_kind   TEXT    NOT NULL CHECK (action_kind IN ('PASS', 'FORWARD', 'BCC', 'COPYTO', 'MOVETO', 'DISCARD', 'REJECT', 'REPLY', 'NOTIFY', 'SETPROP', 'RUNPROC')),
  param1        TEXT,
  param2        TEXT,
  param3        TEXT,
  PRIMARY KEY (rule_id, action_no)
);

CREATE TABLE es_rule_forward (
  message_id    INTEGER NOT NULL REFERENCES es_message (message_id) ON DELETE CASCADE,
  account_id    INTEGER NOT NULL REFERENCES es_account (object_id) ON DELETE CASCADE,
  forwarded_at  TEXT    NOT NULL,
  PRIMARY KEY (message_id, account_id)
);
CREATE INDEX es_rule_forward_account ON es_rule_forward (account_id);

INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'rule_proc_seconds', 'INTEGER', '10', 'Time limit, in seconds, of one ACTION_RUN_PROC call of a server-side rule (Oracle store)');

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (6, 'server-side rules', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'esmail');
