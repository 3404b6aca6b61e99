-- esmail sample: reading a mailbox from PL/SQL with IM_API, and asking for changes.
--
-- Run as an Oracle user allowed to act as jdoe@acme.com (the esmail owner, or see
-- DAPLS.GrantAccount) with EXECUTE on esmail.im_api (the role ESMAIL_API does, in SQL*Plus),
-- and a synonym im_api for esmail.im_api (or write esmail.im_api).

SET SERVEROUTPUT ON

DECLARE
  v_count    NUMBER;
  v_uid      NUMBER;
  v_part     NUMBER;
  v_data     BLOB;
  v_request  NUMBER;
  v_parts    SYS_REFCURSOR;
  v_part_no  NUMBER;
  v_mime     VARCHAR2(255 CHAR);
  v_type     VARCHAR2(32 CHAR);
  v_file     VARCHAR2(255 CHAR);
  v_size     NUMBER;
  v_encoding VARCHAR2(16 CHAR);
BEGIN
  im_api.Authenticate('jdoe@acme.com');
  IF im_api.HasNewMail('INBOX') = 0 THEN
    DBMS_OUTPUT.PUT_LINE('no new mail');
    RETURN;
  END IF;
  v_count := im_api.GetNewMail('INBOX');
  DBMS_OUTPUT.PUT_LINE(v_count || ' new message(s)');
  LOOP
    v_uid := im_api.GetNextMessage;
    EXIT WHEN v_uid IS NULL;
    DBMS_OUTPUT.PUT_LINE('UID ' || v_uid || ' from ' || im_api.GetMessageProp(v_uid, 'FROM')
                         || ': ' || im_api.GetMessageProp(v_uid, 'SUBJECT')
                         || ' (' || im_api.GetMessageProp(v_uid, 'SIZE') || ' bytes)');
    v_parts := im_api.GetPartList(v_uid);
    LOOP
      FETCH v_parts INTO v_part_no, v_mime, v_type, v_file, v_size, v_encoding;
      EXIT WHEN v_parts%NOTFOUND;
      DBMS_OUTPUT.PUT_LINE('  part ' || v_part_no || ': ' || v_mime || ' ' || v_file || ' ' || v_size);
    END LOOP;
    CLOSE v_parts;
    v_part := im_api.GetNextAttachment(v_uid);
    WHILE v_part IS NOT NULL LOOP
      v_data := im_api.GetAttachmentData(v_uid, v_part);
      DBMS_OUTPUT.PUT_LINE('  attachment ' || v_part || ': ' || DBMS_LOB.GETLENGTH(v_data) || ' bytes');
      v_part := im_api.GetNextAttachment(v_uid, v_part);
    END LOOP;
    -- mark it read, and keep a copy in Archive (requests, done after the commit)
    v_request := im_api.SetMessageProp(v_uid, 'SEEN', '1');
    v_request := im_api.CopyMessage(v_uid, 'Archive');
    DBMS_OUTPUT.PUT_LINE('  copy requested: request ' || v_request);
  END LOOP;
  im_api.CloseFolder;
END;
/
COMMIT;

-- the requests, as the Postman leaves them (PENDING until it has run, then DONE or FAILED)
SELECT request_id, request_kind, request_state, result_uid, error_text
  FROM esmail.es_mailbox_request
 WHERE requested_by = USER
 ORDER BY request_id;
