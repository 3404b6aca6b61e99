-- esmail schema, step 1 (embedded store, SQLite dialect).
-- The same logical schema as sql/oracle/steps/V001__base.sql: same tables, same columns.
-- Times are stored as ISO-8601 UTC text (YYYY-MM-DDTHH:MM:SS.ffffffZ), which sorts like time.

CREATE TABLE es_schema_version (
  version        INTEGER NOT NULL PRIMARY KEY,
  description    TEXT    NOT NULL,
  applied_at     TEXT    NOT NULL,
  applied_by     TEXT
);

CREATE TABLE es_setting (
  setting_name   TEXT NOT NULL PRIMARY KEY,
  setting_value  TEXT
);

-- ---------------------------------------------------------------- topology
CREATE TABLE es_node (
  node_id        INTEGER PRIMARY KEY AUTOINCREMENT,
  guid           TEXT    NOT NULL UNIQUE,
  node_name      TEXT    NOT NULL UNIQUE,
  host_name      TEXT,
  is_scn         INTEGER NOT NULL DEFAULT 0 CHECK (is_scn IN (0, 1)),
  sponsor_node_id INTEGER REFERENCES es_node (node_id),
  node_cost      INTEGER NOT NULL DEFAULT 1 CHECK (node_cost >= 0),
  description    TEXT,
  created_at     TEXT    NOT NULL
);
CREATE UNIQUE INDEX es_node_one_scn ON es_node (CASE WHEN is_scn = 1 THEN 1 END);

CREATE TABLE es_domain (
  domain_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  guid           TEXT    NOT NULL UNIQUE,
  qualified_name TEXT    NOT NULL UNIQUE,
  parent_domain_id INTEGER REFERENCES es_domain (domain_id),
  dcn_node_id    INTEGER NOT NULL REFERENCES es_node (node_id),
  description    TEXT,
  created_at     TEXT    NOT NULL
);
CREATE INDEX es_domain_parent ON es_domain (parent_domain_id);
CREATE INDEX es_domain_dcn ON es_domain (dcn_node_id);

CREATE TABLE es_node_domain (
  node_id        INTEGER NOT NULL REFERENCES es_node (node_id),
  domain_id      INTEGER NOT NULL REFERENCES es_domain (domain_id),
  subscribed_at  TEXT    NOT NULL,
  PRIMARY KEY (node_id, domain_id)
);
CREATE INDEX es_node_domain_dom ON es_node_domain (domain_id);

CREATE TABLE es_community (
  community_id   INTEGER PRIMARY KEY AUTOINCREMENT,
  guid           TEXT    NOT NULL UNIQUE,
  community_name TEXT    NOT NULL UNIQUE,
  net_protocol   TEXT    NOT NULL DEFAULT 'TCP/IP',
  description    TEXT,
  created_at     TEXT    NOT NULL
);

CREATE TABLE es_community_node (
  community_id   INTEGER NOT NULL REFERENCES es_community (community_id),
  node_id        INTEGER NOT NULL REFERENCES es_node (node_id),
  PRIMARY KEY (community_id, node_id)
);
CREATE INDEX es_community_node_node ON es_community_node (node_id);

CREATE TABLE es_route (
  route_id       INTEGER PRIMARY KEY AUTOINCREMENT,
  guid           TEXT    NOT NULL UNIQUE,
  from_community_id INTEGER NOT NULL REFERENCES es_community (community_id),
  to_community_id   INTEGER NOT NULL REFERENCES es_community (community_id),
  via_community_id  INTEGER NOT NULL REFERENCES es_community (community_id),
  route_cost     INTEGER NOT NULL DEFAULT 1 CHECK (route_cost >= 0),
  created_at     TEXT    NOT NULL,
  UNIQUE (from_community_id, to_community_id, via_community_id)
);
CREATE INDEX es_route_to ON es_route (to_community_id);
CREATE INDEX es_route_via ON es_route (via_community_id);

-- ---------------------------------------------------------------- directory
CREATE TABLE es_dir_object (
  object_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  guid           TEXT    NOT NULL UNIQUE,
  domain_id      INTEGER NOT NULL REFERENCES es_domain (domain_id),
  object_class   TEXT    NOT NULL CHECK (object_class IN ('PERSON', 'ROOM', 'EQUIPMENT',
                   'PUBLICALIAS', 'PRIVATEALIAS', 'PUBLICDL', 'PRIVATEDL', 'LOCATION',
                   'ORGANIZATION', 'ROLE', 'PUBLICTEMPLATE', 'PRIVATETEMPLATE')),
  object_name    TEXT    NOT NULL,
  name_key       TEXT    NOT NULL,
  owner_scope    INTEGER NOT NULL DEFAULT 0,
  created_at     TEXT    NOT NULL,
  modified_at    TEXT    NOT NULL,
  UNIQUE (domain_id, owner_scope, name_key)
);
CREATE INDEX es_dir_object_class ON es_dir_object (object_class, domain_id);
CREATE INDEX es_dir_object_key ON es_dir_object (name_key);
CREATE INDEX es_dir_object_owner ON es_dir_object (owner_scope);

CREATE TABLE es_dir_attribute (
  object_id      INTEGER NOT NULL REFERENCES es_dir_object (object_id) ON DELETE CASCADE,
  attr_name      TEXT    NOT NULL,
  attr_value     TEXT    NOT NULL,
  value_key      TEXT    NOT NULL,
  PRIMARY KEY (object_id, attr_name)
);
CREATE INDEX es_dir_attribute_value ON es_dir_attribute (attr_name, value_key);

CREATE TABLE es_account (
  object_id      INTEGER NOT NULL PRIMARY KEY REFERENCES es_dir_object (object_id) ON DELETE CASCADE,
  home_node_id   INTEGER NOT NULL REFERENCES es_node (node_id),
  password_hash  TEXT,
  quota_bytes    INTEGER NOT NULL DEFAULT 0 CHECK (quota_bytes >= 0),
  used_bytes     INTEGER NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
  account_status TEXT    NOT NULL DEFAULT 'ENABLED' CHECK (account_status IN ('ENABLED', 'DISABLED')),
  password_changed_at TEXT
);
CREATE INDEX es_account_node ON es_account (home_node_id);

CREATE TABLE es_alias (
  object_id      INTEGER NOT NULL PRIMARY KEY REFERENCES es_dir_object (object_id) ON DELETE CASCADE,
  target_address TEXT    NOT NULL,
  target_object_id INTEGER REFERENCES es_dir_object (object_id)
);
CREATE INDEX es_alias_target ON es_alias (target_object_id);

CREATE TABLE es_dl_member (
  dl_object_id   INTEGER NOT NULL REFERENCES es_dir_object (object_id) ON DELETE CASCADE,
  member_pos     INTEGER NOT NULL,
  member_address TEXT    NOT NULL,
  member_object_id INTEGER REFERENCES es_dir_object (object_id),
  PRIMARY KEY (dl_object_id, member_pos)
);
CREATE INDEX es_dl_member_object ON es_dl_member (member_object_id);

CREATE TABLE es_template (
  object_id      INTEGER NOT NULL PRIMARY KEY REFERENCES es_dir_object (object_id) ON DELETE CASCADE,
  subject        TEXT,
  body_text      TEXT
);

-- directory change log, consumed by the Replicator and the LDAP synchronization
CREATE TABLE es_dir_change (
  change_seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  guid           TEXT    NOT NULL UNIQUE,
  origin_node_id INTEGER NOT NULL REFERENCES es_node (node_id),
  operation      TEXT    NOT NULL CHECK (operation IN ('CREATE', 'MODIFY', 'DELETE')),
  object_class   TEXT    NOT NULL,
  object_guid    TEXT    NOT NULL,
  domain_guid    TEXT,
  before_values  TEXT,
  after_values   TEXT,
  changed_at     TEXT    NOT NULL
);
CREATE INDEX es_dir_change_object ON es_dir_change (object_guid);

CREATE TABLE es_dir_subscriber (
  subscriber_id  INTEGER PRIMARY KEY AUTOINCREMENT,
  subscriber_kind TEXT   NOT NULL CHECK (subscriber_kind IN ('NODE', 'LDAP')),
  subscriber_name TEXT   NOT NULL UNIQUE,
  node_id        INTEGER REFERENCES es_node (node_id),
  acked_seq      INTEGER NOT NULL DEFAULT 0,
  acked_at       TEXT
);

-- ---------------------------------------------------------------- mail store
CREATE TABLE es_folder (
  folder_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  guid           TEXT    NOT NULL UNIQUE,
  owner_account_id INTEGER REFERENCES es_account (object_id) ON DELETE CASCADE,
  domain_id      INTEGER NOT NULL REFERENCES es_domain (domain_id),
  parent_folder_id INTEGER REFERENCES es_folder (folder_id),
  folder_path    TEXT    NOT NULL,
  folder_kind    TEXT    NOT NULL DEFAULT 'PRIVATE' CHECK (folder_kind IN ('PRIVATE', 'PUBLIC', 'SHARED')),
  special_use    TEXT,
  uidvalidity    INTEGER NOT NULL CHECK (uidvalidity > 0),
  next_uid       INTEGER NOT NULL DEFAULT 1 CHECK (next_uid > 0),
  highest_modseq INTEGER NOT NULL DEFAULT 1,
  message_count  INTEGER NOT NULL DEFAULT 0,
  created_at     TEXT    NOT NULL
);
CREATE UNIQUE INDEX es_folder_path ON es_folder (domain_id, COALESCE(owner_account_id, 0), folder_path);
CREATE INDEX es_folder_owner ON es_folder (owner_account_id);
CREATE INDEX es_folder_parent ON es_folder (parent_folder_id);

CREATE TABLE es_folder_acl (
  folder_id      INTEGER NOT NULL REFERENCES es_folder (folder_id) ON DELETE CASCADE,
  grantee        TEXT    NOT NULL,
  rights         TEXT    NOT NULL,
  PRIMARY KEY (folder_id, grantee)
);

CREATE TABLE es_subscription (
  account_id     INTEGER NOT NULL REFERENCES es_account (object_id) ON DELETE CASCADE,
  folder_path    TEXT    NOT NULL,
  PRIMARY KEY (account_id, folder_path)
);

CREATE TABLE es_message (
  message_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  guid           TEXT    NOT NULL UNIQUE,
  origin_node_id INTEGER NOT NULL REFERENCES es_node (node_id),
  size_bytes     INTEGER NOT NULL CHECK (size_bytes >= 0),
  sha256         TEXT    NOT NULL,
  rfc822_msgid   TEXT,
  received_at    TEXT    NOT NULL,
  pointer_count  INTEGER NOT NULL DEFAULT 0 CHECK (pointer_count >= 0),
  content        BLOB    NOT NULL
);
CREATE INDEX es_message_msgid ON es_message (rfc822_msgid);
CREATE INDEX es_message_orphan ON es_message (pointer_count);

CREATE TABLE es_folder_message (
  folder_id      INTEGER NOT NULL REFERENCES es_folder (folder_id) ON DELETE CASCADE,
  msg_uid        INTEGER NOT NULL CHECK (msg_uid > 0),
  message_id     INTEGER NOT NULL REFERENCES es_message (message_id),
  account_id     INTEGER REFERENCES es_account (object_id) ON DELETE CASCADE,
  flags          TEXT,
  modseq         INTEGER NOT NULL,
  internal_date  TEXT    NOT NULL,
  PRIMARY KEY (folder_id, msg_uid)
);
CREATE INDEX es_folder_message_msg ON es_folder_message (message_id);
CREATE INDEX es_folder_message_modseq ON es_folder_message (folder_id, modseq);
CREATE INDEX es_folder_message_acct ON es_folder_message (account_id);

CREATE TABLE es_expunged (
  folder_id      INTEGER NOT NULL REFERENCES es_folder (folder_id) ON DELETE CASCADE,
  msg_uid        INTEGER NOT NULL,
  modseq         INTEGER NOT NULL,
  expunged_at    TEXT    NOT NULL,
  PRIMARY KEY (folder_id, msg_uid)
);
CREATE INDEX es_expunged_modseq ON es_expunged (folder_id, modseq);

-- the mailbox change feed: one row per change, read by IDLE sessions on any host
CREATE TABLE es_mail_change (
  change_seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id     INTEGER NOT NULL,
  folder_id      INTEGER NOT NULL,
  msg_uid        INTEGER,
  change_kind    TEXT    NOT NULL CHECK (change_kind IN ('APPEND', 'FLAGS', 'EXPUNGE', 'FOLDER')),
  modseq         INTEGER NOT NULL,
  changed_at     TEXT    NOT NULL
);
CREATE INDEX es_mail_change_acct ON es_mail_change (account_id, change_seq);

-- ---------------------------------------------------------------- queues
CREATE TABLE es_queue_entry (
  entry_id       INTEGER PRIMARY KEY AUTOINCREMENT,
  guid           TEXT    NOT NULL UNIQUE,
  queue_name     TEXT    NOT NULL CHECK (queue_name IN ('SUBMISSION', 'REROUTING', 'DEAD', 'REMOTE', 'COLLECTOR', 'GATEWAY')),
  node_id        INTEGER NOT NULL REFERENCES es_node (node_id),
  target_node_id INTEGER REFERENCES es_node (node_id),
  gateway_name   TEXT,
  message_id     INTEGER REFERENCES es_message (message_id),
  sender_address TEXT,
  submitted_by   INTEGER REFERENCES es_account (object_id) ON DELETE SET NULL,
  priority       INTEGER NOT NULL DEFAULT 5 CHECK (priority BETWEEN 0 AND 9),
  claimed_by     TEXT,
  lease_until    TEXT,
  attempts       INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at TEXT   NOT NULL,
  not_before     TEXT,
  last_error     TEXT,
  created_at     TEXT    NOT NULL
);
CREATE INDEX es_queue_entry_ready ON es_queue_entry (queue_name, node_id, next_attempt_at);
CREATE INDEX es_queue_entry_msg ON es_queue_entry (message_id);

CREATE TABLE es_queue_recipient (
  entry_id       INTEGER NOT NULL REFERENCES es_queue_entry (entry_id) ON DELETE CASCADE,
  rcpt_pos       INTEGER NOT NULL,
  address        TEXT    NOT NULL,
  rcpt_status    TEXT    NOT NULL DEFAULT 'PENDING' CHECK (rcpt_status IN ('PENDING', 'DONE', 'FAILED', 'DEFERRED')),
  last_error     TEXT,
  PRIMARY KEY (entry_id, rcpt_pos)
);

-- ---------------------------------------------------------------- processes
CREATE TABLE es_process_type (
  type_name      TEXT    NOT NULL PRIMARY KEY,
  description    TEXT    NOT NULL,
  max_instances  INTEGER NOT NULL DEFAULT 99 CHECK (max_instances > 0)
);

CREATE TABLE es_param_default (
  type_name      TEXT    NOT NULL REFERENCES es_process_type (type_name),
  param_name     TEXT    NOT NULL,
  param_kind     TEXT    NOT NULL CHECK (param_kind IN ('INTEGER', 'BOOLEAN', 'STRING', 'LEVEL', 'ENABLED')),
  param_value    TEXT,
  description    TEXT,
  PRIMARY KEY (type_name, param_name)
);

CREATE TABLE es_process (
  node_id        INTEGER NOT NULL REFERENCES es_node (node_id),
  type_name      TEXT    NOT NULL REFERENCES es_process_type (type_name),
  instance_no    INTEGER NOT NULL CHECK (instance_no > 0),
  desired_state  TEXT    NOT NULL DEFAULT 'STOPPED' CHECK (desired_state IN ('RUNNING', 'STOPPED')),
  actual_state   TEXT    NOT NULL DEFAULT 'STOPPED',
  pid            INTEGER,
  host_name      TEXT,
  started_at     TEXT,
  restarts       INTEGER NOT NULL DEFAULT 0,
  last_exit      TEXT,
  last_exit_at   TEXT,
  refresh_seq    INTEGER NOT NULL DEFAULT 0,
  registered_at  TEXT    NOT NULL,
  PRIMARY KEY (node_id, type_name, instance_no)
);
CREATE INDEX es_process_type_idx ON es_process (type_name);

CREATE TABLE es_param_value (
  node_id        INTEGER NOT NULL,
  type_name      TEXT    NOT NULL,
  instance_no    INTEGER NOT NULL,
  param_name     TEXT    NOT NULL,
  param_value    TEXT,
  PRIMARY KEY (node_id, type_name, instance_no, param_name),
  FOREIGN KEY (node_id, type_name, instance_no) REFERENCES es_process (node_id, type_name, instance_no) ON DELETE CASCADE,
  FOREIGN KEY (type_name, param_name) REFERENCES es_param_default (type_name, param_name)
);
CREATE INDEX es_param_value_def ON es_param_value (type_name, param_name);

CREATE TABLE es_schedule_slice (
  node_id        INTEGER NOT NULL,
  type_name      TEXT    NOT NULL,
  instance_no    INTEGER NOT NULL,
  slice_no       INTEGER NOT NULL,
  week_days      TEXT    NOT NULL,
  start_minute   INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
  duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 10080),
  PRIMARY KEY (node_id, type_name, instance_no, slice_no),
  FOREIGN KEY (node_id, type_name, instance_no) REFERENCES es_process (node_id, type_name, instance_no) ON DELETE CASCADE
);

-- ---------------------------------------------------------------- shared server state
CREATE TABLE es_auth_failure (
  remote_addr    TEXT    NOT NULL,
  login_name     TEXT    NOT NULL,
  failures       INTEGER NOT NULL DEFAULT 0,
  first_failed_at TEXT   NOT NULL,
  last_failed_at TEXT    NOT NULL,
  PRIMARY KEY (remote_addr, login_name)
);
CREATE INDEX es_auth_failure_last ON es_auth_failure (last_failed_at);

CREATE TABLE es_session (
  session_id     TEXT    NOT NULL PRIMARY KEY,
  node_id        INTEGER NOT NULL REFERENCES es_node (node_id),
  type_name      TEXT    NOT NULL,
  instance_no    INTEGER NOT NULL,
  protocol       TEXT    NOT NULL,
  remote_addr    TEXT,
  login_name     TEXT,
  account_id     INTEGER REFERENCES es_account (object_id) ON DELETE SET NULL,
  session_state  TEXT    NOT NULL,
  started_at     TEXT    NOT NULL,
  last_active_at TEXT    NOT NULL
);
CREATE INDEX es_session_proc ON es_session (node_id, type_name, instance_no);

CREATE TABLE es_autoreply_memory (
  account_id     INTEGER NOT NULL REFERENCES es_account (object_id) ON DELETE CASCADE,
  sender_key     TEXT    NOT NULL,
  replied_at     TEXT    NOT NULL,
  PRIMARY KEY (account_id, sender_key)
);

CREATE TABLE es_block_list (
  block_id       INTEGER PRIMARY KEY AUTOINCREMENT,
  block_kind     TEXT    NOT NULL CHECK (block_kind IN ('SENDER', 'DOMAIN')),
  pattern_key    TEXT    NOT NULL,
  reason         TEXT,
  created_at     TEXT    NOT NULL,
  UNIQUE (block_kind, pattern_key)
);

CREATE TABLE es_tls_identity (
  identity_name  TEXT    NOT NULL PRIMARY KEY,
  cert_pem       TEXT    NOT NULL,
  key_pem        TEXT    NOT NULL,
  not_after      TEXT,
  created_at     TEXT    NOT NULL
);

-- ---------------------------------------------------------------- gateway, accounting, monitoring
CREATE TABLE es_rewriting_rule (
  rule_id        INTEGER PRIMARY KEY AUTOINCREMENT,
  guid           TEXT    NOT NULL UNIQUE,
  rule_name      TEXT    NOT NULL UNIQUE,
  rule_pos       INTEGER NOT NULL,
  pattern        TEXT    NOT NULL,
  replacement    TEXT    NOT NULL,
  description    TEXT,
  enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_at     TEXT    NOT NULL
);
CREATE INDEX es_rewriting_rule_pos ON es_rewriting_rule (rule_pos);

CREATE TABLE es_attachment_type (
  attachment_type TEXT   NOT NULL PRIMARY KEY,
  description    TEXT
);

CREATE TABLE es_mime_map (
  mime_type      TEXT    NOT NULL PRIMARY KEY,
  attachment_type TEXT   NOT NULL REFERENCES es_attachment_type (attachment_type),
  file_extension TEXT
);
CREATE INDEX es_mime_map_type ON es_mime_map (attachment_type);

CREATE TABLE es_billing (
  billing_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  node_id        INTEGER NOT NULL REFERENCES es_node (node_id),
  billing_kind   TEXT    NOT NULL CHECK (billing_kind IN ('SEND', 'RECV')),
  account_id     INTEGER REFERENCES es_account (object_id) ON DELETE SET NULL,
  address        TEXT    NOT NULL,
  message_guid   TEXT    NOT NULL,
  size_bytes     INTEGER NOT NULL,
  recipients     INTEGER NOT NULL DEFAULT 1,
  created_at     TEXT    NOT NULL
);
CREATE INDEX es_billing_created ON es_billing (created_at);
CREATE INDEX es_billing_account ON es_billing (account_id);

CREATE TABLE es_stat_sample (
  sample_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  node_id        INTEGER NOT NULL REFERENCES es_node (node_id),
  metric         TEXT    NOT NULL,
  metric_value   REAL    NOT NULL,
  sampled_at     TEXT    NOT NULL
);
CREATE INDEX es_stat_sample_metric ON es_stat_sample (metric, sampled_at);

CREATE TABLE es_monitor_report (
  report_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  node_id        INTEGER NOT NULL REFERENCES es_node (node_id),
  test_name      TEXT    NOT NULL,
  severity       TEXT    NOT NULL CHECK (severity IN ('OK', 'INFO', 'WARNING', 'ERROR')),
  summary        TEXT    NOT NULL,
  details        TEXT,
  created_at     TEXT    NOT NULL
);
CREATE INDEX es_monitor_report_created ON es_monitor_report (created_at);


-- ---------------------------------------------------------------- reference data
INSERT INTO es_process_type (type_name, description, max_instances) VALUES ('guardian', 'Parent of every other process of its node; starts, supervises and restarts them', 1);
INSERT INTO es_process_type (type_name, description, max_instances) VALUES ('postman', 'Message transfer agent: moves messages through the queues and delivers them', 99);
INSERT INTO es_process_type (type_name, description, max_instances) VALUES ('collector', 'Deletes expunged messages, old change-log, billing and statistics rows', 99);
INSERT INTO es_process_type (type_name, description, max_instances) VALUES ('replicator', 'Packages directory changes and sends them to subscribing nodes', 1);
INSERT INTO es_process_type (type_name, description, max_instances) VALUES ('monitor', 'Tests message flow, space, configuration and references; reports to ORAPOST', 1);
INSERT INTO es_process_type (type_name, description, max_instances) VALUES ('statistics', 'Samples delivery times and space use for the Monitor', 1);
INSERT INTO es_process_type (type_name, description, max_instances) VALUES ('smtpgw', 'SMTP/MIME gateway, inbound and outbound', 99);
INSERT INTO es_process_type (type_name, description, max_instances) VALUES ('iolistener', 'Accepts POP3 and IMAP4 clients and hands each to the least busy protocol server', 1);
INSERT INTO es_process_type (type_name, description, max_instances) VALUES ('pop3srv', 'POP3 protocol server', 99);
INSERT INTO es_process_type (type_name, description, max_instances) VALUES ('imap4srv', 'IMAP4rev1 protocol server', 99);
INSERT INTO es_process_type (type_name, description, max_instances) VALUES ('ioldap', 'Exports the directory to an LDAP directory for the first load', 1);
INSERT INTO es_process_type (type_name, description, max_instances) VALUES ('ioodssync', 'Pushes directory changes to an LDAP directory', 1);
INSERT INTO es_process_type (type_name, description, max_instances) VALUES ('odsiosync', 'Pulls additions and deletions from an LDAP directory', 1);
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('guardian', 'defaultStartUp', 'ENABLED', 'ENABLED', 'Started by startup all (ENABLED or DISABLED)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('guardian', 'execArguments', 'STRING', NULL, 'Extra arguments given to the process when it starts');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('guardian', 'loglevel', 'LEVEL', 'info', 'Log level: error, warn, info, debug or trace');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('guardian', 'logdir', 'STRING', 'log', 'Directory of the process log file (relative to the node''s data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('guardian', 'schedule', 'STRING', NULL, 'Time slices when the instance runs, e.g. mon-fri 08:00+600; empty: always');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'defaultStartUp', 'ENABLED', 'ENABLED', 'Started by startup all (ENABLED or DISABLED)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'execArguments', 'STRING', NULL, 'Extra arguments given to the process when it starts');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'loglevel', 'LEVEL', 'info', 'Log level: error, warn, info, debug or trace');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'logdir', 'STRING', 'log', 'Directory of the process log file (relative to the node''s data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'schedule', 'STRING', NULL, 'Time slices when the instance runs, e.g. mon-fri 08:00+600; empty: always');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'RemoteFlag', 'INTEGER', '1', '1: this instance also handles messages bound for other nodes and gateways');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'delivery_stats', 'BOOLEAN', '0', 'Record delivery times for the Statistics process');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'send_billing', 'BOOLEAN', '0', 'Write a billing record for each message sent');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'recv_billing', 'BOOLEAN', '0', 'Write a billing record for each message received');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'defaultStartUp', 'ENABLED', 'ENABLED', 'Started by startup all (ENABLED or DISABLED)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'execArguments', 'STRING', NULL, 'Extra arguments given to the process when it starts');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'loglevel', 'LEVEL', 'info', 'Log level: error, warn, info, debug or trace');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'logdir', 'STRING', 'log', 'Directory of the process log file (relative to the node''s data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'schedule', 'STRING', NULL, 'Time slices when the instance runs, e.g. mon-fri 08:00+600; empty: always');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'gc_billinfo_kept', 'INTEGER', '45', 'Days billing records are kept');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('replicator', 'defaultStartUp', 'ENABLED', 'ENABLED', 'Started by startup all (ENABLED or DISABLED)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('replicator', 'execArguments', 'STRING', NULL, 'Extra arguments given to the process when it starts');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('replicator', 'loglevel', 'LEVEL', 'info', 'Log level: error, warn, info, debug or trace');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('replicator', 'logdir', 'STRING', 'log', 'Directory of the process log file (relative to the node''s data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('replicator', 'schedule', 'STRING', NULL, 'Time slices when the instance runs, e.g. mon-fri 08:00+600; empty: always');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'defaultStartUp', 'ENABLED', 'ENABLED', 'Started by startup all (ENABLED or DISABLED)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'execArguments', 'STRING', NULL, 'Extra arguments given to the process when it starts');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'loglevel', 'LEVEL', 'info', 'Log level: error, warn, info, debug or trace');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'logdir', 'STRING', 'log', 'Directory of the process log file (relative to the node''s data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'schedule', 'STRING', NULL, 'Time slices when the instance runs, e.g. mon-fri 08:00+600; empty: always');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('statistics', 'defaultStartUp', 'ENABLED', 'ENABLED', 'Started by startup all (ENABLED or DISABLED)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('statistics', 'execArguments', 'STRING', NULL, 'Extra arguments given to the process when it starts');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('statistics', 'loglevel', 'LEVEL', 'info', 'Log level: error, warn, info, debug or trace');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('statistics', 'logdir', 'STRING', 'log', 'Directory of the process log file (relative to the node''s data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('statistics', 'schedule', 'STRING', NULL, 'Time slices when the instance runs, e.g. mon-fri 08:00+600; empty: always');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'defaultStartUp', 'ENABLED', 'ENABLED', 'Started by startup all (ENABLED or DISABLED)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'execArguments', 'STRING', NULL, 'Extra arguments given to the process when it starts');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'loglevel', 'LEVEL', 'info', 'Log level: error, warn, info, debug or trace');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'logdir', 'STRING', 'log', 'Directory of the process log file (relative to the node''s data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'schedule', 'STRING', NULL, 'Time slices when the instance runs, e.g. mon-fri 08:00+600; empty: always');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('iolistener', 'defaultStartUp', 'ENABLED', 'ENABLED', 'Started by startup all (ENABLED or DISABLED)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('iolistener', 'execArguments', 'STRING', NULL, 'Extra arguments given to the process when it starts');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('iolistener', 'loglevel', 'LEVEL', 'info', 'Log level: error, warn, info, debug or trace');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('iolistener', 'logdir', 'STRING', 'log', 'Directory of the process log file (relative to the node''s data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('iolistener', 'schedule', 'STRING', NULL, 'Time slices when the instance runs, e.g. mon-fri 08:00+600; empty: always');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'defaultStartUp', 'ENABLED', 'ENABLED', 'Started by startup all (ENABLED or DISABLED)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'execArguments', 'STRING', NULL, 'Extra arguments given to the process when it starts');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'loglevel', 'LEVEL', 'info', 'Log level: error, warn, info, debug or trace');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'logdir', 'STRING', 'log', 'Directory of the process log file (relative to the node''s data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'schedule', 'STRING', NULL, 'Time slices when the instance runs, e.g. mon-fri 08:00+600; empty: always');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'defaultStartUp', 'ENABLED', 'ENABLED', 'Started by startup all (ENABLED or DISABLED)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'execArguments', 'STRING', NULL, 'Extra arguments given to the process when it starts');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'loglevel', 'LEVEL', 'info', 'Log level: error, warn, info, debug or trace');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'logdir', 'STRING', 'log', 'Directory of the process log file (relative to the node''s data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'schedule', 'STRING', NULL, 'Time slices when the instance runs, e.g. mon-fri 08:00+600; empty: always');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioldap', 'defaultStartUp', 'ENABLED', 'ENABLED', 'Started by startup all (ENABLED or DISABLED)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioldap', 'execArguments', 'STRING', NULL, 'Extra arguments given to the process when it starts');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioldap', 'loglevel', 'LEVEL', 'info', 'Log level: error, warn, info, debug or trace');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioldap', 'logdir', 'STRING', 'log', 'Directory of the process log file (relative to the node''s data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioldap', 'schedule', 'STRING', NULL, 'Time slices when the instance runs, e.g. mon-fri 08:00+600; empty: always');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioodssync', 'defaultStartUp', 'ENABLED', 'ENABLED', 'Started by startup all (ENABLED or DISABLED)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioodssync', 'execArguments', 'STRING', NULL, 'Extra arguments given to the process when it starts');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioodssync', 'loglevel', 'LEVEL', 'info', 'Log level: error, warn, info, debug or trace');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioodssync', 'logdir', 'STRING', 'log', 'Directory of the process log file (relative to the node''s data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioodssync', 'schedule', 'STRING', NULL, 'Time slices when the instance runs, e.g. mon-fri 08:00+600; empty: always');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('odsiosync', 'defaultStartUp', 'ENABLED', 'ENABLED', 'Started by startup all (ENABLED or DISABLED)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('odsiosync', 'execArguments', 'STRING', NULL, 'Extra arguments given to the process when it starts');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('odsiosync', 'loglevel', 'LEVEL', 'info', 'Log level: error, warn, info, debug or trace');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('odsiosync', 'logdir', 'STRING', 'log', 'Directory of the process log file (relative to the node''s data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('odsiosync', 'schedule', 'STRING', NULL, 'Time slices when the instance runs, e.g. mon-fri 08:00+600; empty: always');
INSERT INTO es_attachment_type (attachment_type, description) VALUES ('TEXT', 'Plain or formatted text');
INSERT INTO es_attachment_type (attachment_type, description) VALUES ('IMAGE', 'Picture');
INSERT INTO es_attachment_type (attachment_type, description) VALUES ('AUDIO', 'Sound');
INSERT INTO es_attachment_type (attachment_type, description) VALUES ('VIDEO', 'Moving picture');
INSERT INTO es_attachment_type (attachment_type, description) VALUES ('APPLICATION', 'Application data');
INSERT INTO es_attachment_type (attachment_type, description) VALUES ('MESSAGE', 'Attached message');
INSERT INTO es_attachment_type (attachment_type, description) VALUES ('BINARY', 'Any other binary data');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('text/plain', 'TEXT', 'txt');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('text/html', 'TEXT', 'html');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('text/enriched', 'TEXT', 'txt');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('image/gif', 'IMAGE', 'gif');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('image/jpeg', 'IMAGE', 'jpg');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('image/png', 'IMAGE', 'png');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('audio/basic', 'AUDIO', 'au');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('audio/mpeg', 'AUDIO', 'mp3');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('video/mpeg', 'VIDEO', 'mpg');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('application/pdf', 'APPLICATION', 'pdf');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('application/msword', 'APPLICATION', 'doc');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('application/zip', 'APPLICATION', 'zip');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('application/octet-stream', 'BINARY', 'bin');
INSERT INTO es_mime_map (mime_type, attachment_type, file_extension) VALUES ('message/rfc822', 'MESSAGE', 'eml');

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (1, 'base schema', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'esmail');
