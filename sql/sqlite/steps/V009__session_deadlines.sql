-- esmail schema, step 9 (embedded store, SQLite dialect): deadlines for the protocol
-- servers' sessions.
-- The same logical change as sql/oracle/steps/V009__session_deadlines.sql (see there).

INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'login_timeout', 'INTEGER', '120', 'Seconds a client may stay connected without logging in');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'command_timeout', 'INTEGER', '60', 'Seconds a command may take to arrive once its first byte came (IMAP literals: one more second per 4 KiB)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'max_unauthenticated_per_address', 'INTEGER', '100', 'Sessions from one client address not logged in yet, at most (0: no limit)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'login_timeout', 'INTEGER', '120', 'Seconds a client may stay connected without logging in');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'command_timeout', 'INTEGER', '60', 'Seconds a command may take to arrive once its first byte came (IMAP literals: one more second per 4 KiB)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'max_unauthenticated_per_address', 'INTEGER', '100', 'Sessions from one client address not logged in yet, at most (0: no limit)');

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (9, 'protocol server session deadlines', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'esmail');
