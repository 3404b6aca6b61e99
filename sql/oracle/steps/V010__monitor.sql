-- esmail schema, step 10 (Oracle dialect): the Monitor.
-- The same logical change as sql/sqlite/steps/V010__monitor.sql.
--
-- The Monitor process (`esmail monitor`) tests message flow, space, configuration and
-- references on its node, records its results in es_monitor_report (step 1) and mails its
-- reports to ORAPOST (docs/monitor.md). These are its parameters; `esmail upgrade` registers
-- its instance 1 on every node.
-- Run by install.sql / upgrade.sql (SQL*Plus), or by `esmail upgrade`.

INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'interval', 'INTEGER', '900', 'Seconds between two rounds of tests');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'tests', 'STRING', 'flow,space,configuration,references', 'Tests a round runs (comma-separated)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'report_to', 'STRING', NULL, 'Address the reports are mailed to (default: the orapost_address setting)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'report_level', 'STRING', 'WARNING', 'Lowest result mailed: OK, INFO, WARNING or ERROR');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'report_repeat_hours', 'INTEGER', '24', 'Hours before the same findings are mailed again');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'flow_warning_minutes', 'INTEGER', '15', 'Minutes the oldest Submission, Rerouting or Collector entry may wait (an error past four times this)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'remote_warning_minutes', 'INTEGER', '240', 'Minutes the oldest Remote or Gateway entry may wait (an error past four times this)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'space_warning_days', 'INTEGER', '30', 'A warning when the store will be full in fewer days than this (an error under 7)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('monitor', 'cert_warning_days', 'INTEGER', '30', 'A warning when the TLS certificate expires in fewer days than this');

CREATE INDEX es_monitor_report_test ON es_monitor_report (node_id, test_name, report_id)
  TABLESPACE &&index_tablespace;

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (10, 'the Monitor', SYSTIMESTAMP, USER);

COMMIT;
