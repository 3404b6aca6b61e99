-- esmail schema, step 5 (embedded store, SQLite dialect): the protocol servers.
-- The same logical change as sql/oracle/steps/V005__protocol_servers.sql: what the SPS protocol
-- servers (IOLISTENER, POP3SRV, IMAP4SRV) need. The cached IMAP structure of each message
-- (computed once, at arrival or APPEND, never per FETCH); the first UID no session has seen yet
-- (\Recent); the load an instance reports (sessions and the use of its connection pool, shown
-- by `probe;`); the parameters of the three process types.

-- in a table of its own: SQLite reads a row's columns in order, and the structure must not
-- sit behind the content it describes
CREATE TABLE es_message_structure (
  message_id     INTEGER PRIMARY KEY REFERENCES es_message (message_id) ON DELETE CASCADE,
  structure      TEXT    NOT NULL
);

ALTER TABLE es_folder ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 1;

ALTER TABLE es_process ADD COLUMN session_count INTEGER;
ALTER TABLE es_process ADD COLUMN pool_size INTEGER;
ALTER TABLE es_process ADD COLUMN pool_in_use INTEGER;
ALTER TABLE es_process ADD COLUMN pool_idle INTEGER;
ALTER TABLE es_process ADD COLUMN pool_waiting INTEGER;
ALTER TABLE es_process ADD COLUMN load_at TEXT;

INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('iolistener', 'bind_address', 'STRING', '0.0.0.0', 'Address the listener binds to');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('iolistener', 'pop3_port', 'INTEGER', '1110', 'TCP port for POP3 clients (0: none)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('iolistener', 'imap_port', 'INTEGER', '1143', 'TCP port for IMAP4 clients (0: none)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('iolistener', 'pop3s_port', 'INTEGER', '1995', 'TCP port for POP3 over implicit TLS (0: none)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('iolistener', 'imaps_port', 'INTEGER', '1993', 'TCP port for IMAP4 over implicit TLS (0: none)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('iolistener', 'handoff_socket', 'STRING', NULL, 'Unix socket the protocol servers of this node connect to (default: run/iolistener.sock in the data directory)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('iolistener', 'max_connections', 'INTEGER', '10000', 'Client connections accepted but not yet handed over');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'pool_size', 'INTEGER', '4', 'Database connections shared by all the sessions of the instance');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'port', 'INTEGER', '0', 'TCP port the instance listens on itself, without IOLISTENER (0: clients come through IOLISTENER)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'tls_port', 'INTEGER', '0', 'TCP port for implicit TLS the instance listens on itself (0: none)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'bind_address', 'STRING', '0.0.0.0', 'Address the instance binds its own ports to');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'hostname', 'STRING', NULL, 'Name in the greeting (default: the host name)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'idle_timeout', 'INTEGER', '600', 'Seconds a session may stay silent before it is logged out');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'max_connections', 'INTEGER', '5000', 'Simultaneous sessions of the instance');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'max_line_bytes', 'INTEGER', '1024', 'Longest command line, in bytes');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'commands_per_second', 'INTEGER', '1000', 'Commands one session may send per second before it is slowed down');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'login_disabled_without_tls', 'BOOLEAN', '0', 'Refuse plain-text logins until the session uses TLS (loopback clients excepted: never)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'pool_size', 'INTEGER', '4', 'Database connections shared by all the sessions of the instance');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'port', 'INTEGER', '0', 'TCP port the instance listens on itself, without IOLISTENER (0: clients come through IOLISTENER)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'tls_port', 'INTEGER', '0', 'TCP port for implicit TLS the instance listens on itself (0: none)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'bind_address', 'STRING', '0.0.0.0', 'Address the instance binds its own ports to');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'hostname', 'STRING', NULL, 'Name in the greeting (default: the host name)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'idle_timeout', 'INTEGER', '1800', 'Seconds a session may stay silent before it is logged out');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'max_connections', 'INTEGER', '5000', 'Simultaneous sessions of the instance');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'max_line_bytes', 'INTEGER', '65536', 'Longest command line, in bytes');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'commands_per_second', 'INTEGER', '1000', 'Commands one session may send per second before it is slowed down');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'login_disabled_without_tls', 'BOOLEAN', '0', 'Refuse plain-text logins until the session uses TLS (loopback clients excepted: never)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'max_literal_bytes', 'INTEGER', '26214400', 'Largest literal (an APPENDed message), in bytes');

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (5, 'protocol servers', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'esmail');
