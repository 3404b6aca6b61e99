-- esmail schema, step 8 (embedded store, SQLite dialect): the Collector purges the rules'
-- memories and the finished requests from PL/SQL.
-- The same logical change as sql/oracle/steps/V008__collector_retention.sql (see there).

CREATE INDEX es_autoreply_memory_replied ON es_autoreply_memory (replied_at);
CREATE INDEX es_rule_forward_at ON es_rule_forward (forwarded_at);
CREATE INDEX es_rule_action_kind ON es_rule_action (action_kind);
CREATE INDEX es_mailbox_request_done ON es_mailbox_request (done_at);
CREATE INDEX es_admin_request_done ON es_admin_request (done_at);

INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'autoreply_kept_days', 'INTEGER', '30', 'Days the memory of an auto-reply is kept at least (longer while a reply rule has a longer period)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'forward_kept_days', 'INTEGER', '7', 'Days the forward memory of the rules is kept at least (longer while a queue entry holds the message)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'requests_kept_days', 'INTEGER', '7', 'Days finished (DONE or FAILED) mailbox and directory requests are kept');

UPDATE es_param_default
SET param_value = 'content,queue,billing,changelog,tombstones,mailchanges,sessions,authfailures,statistics,autoreplies,forwards,requests'
WHERE type_name = 'collector' AND param_name = 'work'
  AND param_value = 'content,queue,billing,changelog,tombstones,mailchanges,sessions,authfailures,statistics';

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (8, 'collector retention of rule memories and finished requests', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'esmail');
