-- esmail schema, step 9 (Oracle dialect): deadlines for the protocol servers' sessions.
-- The same logical change as sql/sqlite/steps/V009__session_deadlines.sql.
--
-- A client that never logs in, or that sends a command one byte at a time, held its session
-- until the idle timeout (30 minutes for IMAP). POP3SRV and IMAP4SRV now end a session that has
-- not logged in within login_timeout, a command that has not fully arrived within
-- command_timeout, and refuse more than max_unauthenticated_per_address sessions from one
-- client address before login (docs/sps.md, Limits).
-- Run by install.sql / upgrade.sql (SQL*Plus), or by `esmail upgrade`.

INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'login_timeout', 'INTEGER', '120', 'Seconds a client may stay connected without logging in');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'command_timeout', 'INTEGER', '60', 'Seconds a command may take to arrive once its first byte came (IMAP literals: one more second per 4 KiB)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('pop3srv', 'max_unauthenticated_per_address', 'INTEGER', '100', 'Sessions from one client address not logged in yet, at most (0: no limit)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'login_timeout', 'INTEGER', '120', 'Seconds a client may stay connected without logging in');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'command_timeout', 'INTEGER', '60', 'Seconds a command may take to arrive once its first byte came (IMAP literals: one more second per 4 KiB)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('imap4srv', 'max_unauthenticated_per_address', 'INTEGER', '100', 'Sessions from one client address not logged in yet, at most (0: no limit)');

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (9, 'protocol server session deadlines', SYSTIMESTAMP, USER);

COMMIT;
