-- esmail schema, step 5 (Oracle dialect): the protocol servers.
-- The same logical change as sql/sqlite/steps/V005__protocol_servers.sql: what the SPS protocol
-- servers (IOLISTENER, POP3SRV, IMAP4SRV) need. The cached IMAP structure of each message
-- (computed once, at arrival or APPEND, never per FETCH); the first UID no session has seen yet
-- (\Recent); the load an instance reports (sessions and the use of its connection pool, shown
-- by `probe;`); the parameters of the three process types.
-- Run by install.sql / upgrade.sql (SQL*Plus), or by `esmail upgrade`.

-- a few hundred bytes per message, in a table of its own: read by every FETCH of ENVELOPE or
-- BODYSTRUCTURE, it must not share a row with the content it describes
CREATE TABLE es_message_structure (
  message_id           NUMBER(19)                NOT NULL,
  structure            CLOB                      NOT NULL,
  CONSTRAINT es_message_structure_pk PRIMARY KEY (message_id)
    USING INDEX TABLESPACE &&index_tablespace,
  CONSTRAINT es_message_structure_msg_fk FOREIGN KEY (message_id)
    REFERENCES es_message (message_id) ON DELETE CASCADE
)
TABLESPACE &&data_tablespace
LOB (structure) STORE AS SECUREFILE es_message_structure_lob (
  TABLESPACE &&lob_tablespace
  ENABLE STORAGE IN ROW
  CACHE
);

ALTER TABLE es_folder ADD (recent_uid NUMBER(10) DEFAULT 1 NOT NULL);

ALTER TABLE es_process ADD (
  session_count  NUMBER(10),
  pool_size      NUMBER(10),
  pool_in_use    NUMBER(10),
  pool_idle      NUMBER(10),
  pool_waiting   NUMBER(10),
  load_at        TIMESTAMP WITH TIME ZONE
);

COMMENT ON TABLE es_message_structure IS 'The IMAP ENVELOPE, BODY and BODYSTRUCTURE of the message (JSON), computed once';
COMMENT ON COLUMN es_folder.recent_uid IS 'First UID no selecting session has seen yet: the messages from it on are \Recent for the next SELECT';
COMMENT ON COLUMN es_process.pool_in_use IS 'Database connections the instance was using at load_at';

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

COMMIT;

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (5, 'protocol servers', SYSTIMESTAMP, USER);

COMMIT;
