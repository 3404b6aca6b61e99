-- esmail schema, step 3 (embedded store, SQLite dialect): mail flow.
-- The parameters of the Postman and of the SMTP/MIME gateway.

INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'batch_size', 'INTEGER', '50', 'Queue entries claimed at a time');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'lease_seconds', 'INTEGER', '60', 'How long a claim lasts; an entry whose claim expired is taken over by another instance');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'poll_ms', 'INTEGER', '500', 'Milliseconds between two looks at an empty queue');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'max_attempts', 'INTEGER', '10', 'Local delivery attempts before a message goes to the Dead Message queue');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('postman', 'max_expansion', 'INTEGER', '10000', 'Most accounts one recipient (a list, a role...) may expand to');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'port', 'INTEGER', '2525', 'TCP port of the SMTP listener (0: none)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'bind_address', 'STRING', '0.0.0.0', 'Address the SMTP listener binds to');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'hostname', 'STRING', NULL, 'Name in the greeting and Received headers (default: the host name)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'max_message_bytes', 'INTEGER', '26214400', 'Largest message accepted (SIZE), in bytes');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'max_recipients', 'INTEGER', '100', 'Most recipients of one message');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'max_line_bytes', 'INTEGER', '4096', 'Longest command or text line, in bytes');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'command_timeout', 'INTEGER', '300', 'Seconds a client may take to send a command');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'data_timeout', 'INTEGER', '600', 'Seconds a client may take to send a message');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'max_errors', 'INTEGER', '10', 'Errors in a session before the connection is closed');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'max_connections', 'INTEGER', '200', 'Simultaneous client connections');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'smart_host', 'STRING', NULL, 'host:port outbound mail is handed to (default: MX lookup)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'retry_days', 'INTEGER', '5', 'Days a temporarily failing outbound message is retried before it is bounced');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'outbound_workers', 'INTEGER', '4', 'Outbound deliveries at a time');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('smtpgw', 'retry_first_seconds', 'INTEGER', '60', 'Seconds before the first retry of a temporarily failing outbound message; each retry waits twice as long, at most an hour');

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (3, 'mail flow', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'esmail');
