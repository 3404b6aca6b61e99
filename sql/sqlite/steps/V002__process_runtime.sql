-- esmail schema, step 2 (embedded store, SQLite dialect): the process runtime.
-- A heartbeat per registered process, so that a Guardian can tell a live record from a stale
-- one on any host; the parameters of the Guardian, the Collector and Statistics. Schedules
-- are the `schedule` parameter of each instance (slices such as `mon-fri 08:00-18:00`), so the
-- separate slice table goes.

ALTER TABLE es_process ADD COLUMN heartbeat_at TEXT;

DROP TABLE es_schedule_slice;

INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('guardian', 'shutdown_timeout', 'INTEGER', '20', 'Seconds the Guardian waits for its children to stop before it kills them');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('guardian', 'restart_backoff_max', 'INTEGER', '60', 'Longest wait, in seconds, before a child that keeps dying is started again');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'interval', 'INTEGER', '60', 'Seconds between two rounds of collection');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'batch_size', 'INTEGER', '500', 'Rows deleted per transaction');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'work', 'STRING', 'content,queue,billing,changelog,tombstones,mailchanges,sessions,authfailures,statistics', 'Kinds of work this instance does (comma-separated)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'changelog_kept_days', 'INTEGER', '30', 'Days directory changes are kept when no subscriber needs them');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'tombstone_kept_days', 'INTEGER', '30', 'Days expunged-message tombstones and mailbox change rows are kept');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'stats_kept_days', 'INTEGER', '90', 'Days statistics samples and monitor reports are kept');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('statistics', 'interval', 'INTEGER', '300', 'Seconds between two samples');

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (2, 'process runtime', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'esmail');
