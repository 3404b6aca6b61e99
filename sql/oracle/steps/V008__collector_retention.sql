-- esmail schema, step 8 (Oracle dialect): the Collector purges the rules' memories and the
-- finished requests from PL/SQL.
-- The same logical change as sql/sqlite/steps/V008__collector_retention.sql.
--
-- Three kinds of rows grew forever until this step: the auto-reply memory (es_autoreply_memory),
-- the forward memory of the rules (es_rule_forward) and the requests the Postman finished
-- (es_mailbox_request, es_admin_request, DONE or FAILED). The Collector now deletes them once
-- they are older than their retention (work kinds autoreplies, forwards and requests; see
-- docs/processes.md): an auto-reply memory row once it is older than both autoreply_kept_days
-- and the longest reply period of any rule, a forward memory row once it is older than
-- forward_kept_days and no queue entry holds its message any more, a finished request once it
-- is older than requests_kept_days. The indexes below let its batches find the oldest rows
-- without reading whole tables, and the reply periods without reading every action.
-- The default of the Collector's work parameter gains the three kinds, unless an administrator
-- changed it (then the change is theirs to make).
-- Run by install.sql / upgrade.sql (SQL*Plus), or by `esmail upgrade`.

CREATE INDEX es_autoreply_memory_replied ON es_autoreply_memory (replied_at)
  TABLESPACE &&index_tablespace;
CREATE INDEX es_rule_forward_at ON es_rule_forward (forwarded_at)
  TABLESPACE &&index_tablespace;
CREATE INDEX es_rule_action_kind ON es_rule_action (action_kind)
  TABLESPACE &&index_tablespace;
CREATE INDEX es_mailbox_request_done ON es_mailbox_request (done_at)
  TABLESPACE &&index_tablespace;
CREATE INDEX es_admin_request_done ON es_admin_request (done_at)
  TABLESPACE &&index_tablespace;

INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'autoreply_kept_days', 'INTEGER', '30', 'Days the memory of an auto-reply is kept at least (longer while a reply rule has a longer period)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'forward_kept_days', 'INTEGER', '7', 'Days the forward memory of the rules is kept at least (longer while a queue entry holds the message)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('collector', 'requests_kept_days', 'INTEGER', '7', 'Days finished (DONE or FAILED) mailbox and directory requests are kept');

UPDATE es_param_default
SET param_value = 'content,queue,billing,changelog,tombstones,mailchanges,sessions,authfailures,statistics,autoreplies,forwards,requests'
WHERE type_name = 'collector' AND param_name = 'work'
  AND param_value = 'content,queue,billing,changelog,tombstones,mailchanges,sessions,authfailures,statistics';

COMMENT ON COLUMN es_autoreply_memory.replied_at IS 'Last auto-reply; deleted by the Collector once older than autoreply_kept_days and the longest reply period of any rule';
COMMENT ON COLUMN es_rule_forward.forwarded_at IS 'Deleted by the Collector once older than forward_kept_days and no queue entry holds the message';

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (8, 'collector retention of rule memories and finished requests', SYSTIMESTAMP, USER);

COMMIT;
