-- esmail sample: a custom rule action (ACTION_RUN_PROC). The Postman calls the procedure a
-- RUNPROC action names with the folder the message was delivered to, its UID there, and the
-- action's two parameters, inside its delivery transaction and within a time limit (the
-- postman parameter rule_proc_seconds, 10 s by default). Oracle store only.
--
-- The procedure must
--   * have the signature (p_folder_id IN NUMBER, p_msg_uid IN NUMBER,
--                         p_param1 IN VARCHAR2, p_param2 IN VARCHAR2);
--   * not COMMIT or ROLLBACK (the delivery transaction is the Postman's);
--   * be quick; an error, or running out of time, is logged and the message is still
--     delivered (a rule never loses mail);
--   * be callable by the esmail schema owner (the Postman calls it through es_rule_run_proc,
--     which runs with the owner's rights): GRANT EXECUTE ON app.log_incoming TO esmail;
-- It may read the message through IM_API: OpenFolderById acts as the folder's owner, which the
-- procedure's schema must be allowed to do (es_api_user: DAPLS.GrantAccount('APP') for every
-- account, or one grant per account).
--
-- Run in the application's schema (APP below), which needs EXECUTE on esmail.im_api (granted
-- directly) and a synonym or the esmail. prefix.

SET SERVEROUTPUT ON

CREATE TABLE app_mail_log (
  logged_at  TIMESTAMP WITH TIME ZONE NOT NULL,
  folder_id  NUMBER(19)          NOT NULL,
  msg_uid    NUMBER(10)          NOT NULL,
  sender     VARCHAR2(1000 CHAR),
  subject    VARCHAR2(1000 CHAR),
  size_bytes NUMBER(19),
  tag        VARCHAR2(100 CHAR)
);

CREATE OR REPLACE SYNONYM im_api FOR esmail.im_api;

CREATE OR REPLACE PROCEDURE log_incoming (
  p_folder_id IN NUMBER,
  p_msg_uid   IN NUMBER,
  p_param1    IN VARCHAR2,
  p_param2    IN VARCHAR2
) AUTHID DEFINER AS
  v_count   NUMBER;
  v_sender  VARCHAR2(1000 CHAR);
  v_subject VARCHAR2(1000 CHAR);
  v_size    NUMBER;
BEGIN
  v_count := im_api.OpenFolderById(p_folder_id);
  v_sender := SUBSTR(im_api.GetMessageProp(p_msg_uid, 'FROM'), 1, 1000);
  v_subject := SUBSTR(im_api.GetMessageProp(p_msg_uid, 'SUBJECT'), 1, 1000);
  v_size := TO_NUMBER(im_api.GetMessageProp(p_msg_uid, 'SIZE'));
  im_api.CloseFolder;
  INSERT INTO app_mail_log (logged_at, folder_id, msg_uid, sender, subject, size_bytes, tag)
  VALUES (SYSTIMESTAMP, p_folder_id, p_msg_uid, v_sender, v_subject, v_size,
          NVL(p_param1, 'untagged') || CASE WHEN p_param2 IS NOT NULL THEN '/' || p_param2 END);
END log_incoming;
/

-- The rule, written by an administrator (the esmail owner, or an API administrator):
--   BEGIN
--     esmail.es_rules.create_rule('jdoe@acme.com', 'log-orders');
--     esmail.es_rules.add_cond('jdoe@acme.com', 'log-orders');
--     esmail.es_rules.add_clause('jdoe@acme.com', 'log-orders', 'SUBJECT', 'CONTAINS', 'order');
--     esmail.es_rules.add_action('jdoe@acme.com', 'log-orders', 'RUNPROC', 'APP.LOG_INCOMING', 'orders', 'jdoe');
--   END;
--   /
--   COMMIT;
-- or in IOFCMGR:
--   create rule owner=jdoe@acme.com name=log-orders;
--   add cond owner=jdoe@acme.com rule=log-orders join=and;
--   add clause owner=jdoe@acme.com rule=log-orders on=subject op=contains value=order;
--   add action owner=jdoe@acme.com rule=log-orders do=runproc procedure=APP.LOG_INCOMING param1=orders param2=jdoe;
