-- esmail sample: an inventory application mails a supervisor when the stock of a part drops
-- below its reorder level (the example of the original product's planning guide).
--
-- Run in the application's schema (INVENTORY below), which needs:
--   * EXECUTE on the esmail owner's IOSEND, granted directly (a trigger runs with its owner's
--     rights, where roles do not count), as the esmail schema owner:
--       GRANT EXECUTE ON esmail.iosend TO inventory;
--   * an account to send as, and leave to act as it; as the esmail schema owner:
--       iofcmgr:  create person username=inventory domain=acme.com;
--       SQL:      EXEC dapls.GrantAccount('INVENTORY', 'inventory@acme.com'); COMMIT;
--   * the esmail schema's packages named without a prefix: a synonym (below), or esmail.iosend.
--
-- The mail is queued in the transaction that changes the stock: it leaves when that
-- transaction commits, and never when it rolls back.

SET SERVEROUTPUT ON

CREATE TABLE inv_part (
  part_no        VARCHAR2(30 CHAR)   NOT NULL,
  description    VARCHAR2(200 CHAR)  NOT NULL,
  qty            NUMBER(10)          NOT NULL,
  reorder_level  NUMBER(10)          NOT NULL,
  supervisor     VARCHAR2(320 CHAR)  NOT NULL,
  CONSTRAINT inv_part_pk PRIMARY KEY (part_no)
);

-- the alerts sent, for the application's own records
CREATE TABLE inv_alert (
  part_no     VARCHAR2(30 CHAR)   NOT NULL,
  qty         NUMBER(10)          NOT NULL,
  message_id  VARCHAR2(400 CHAR)  NOT NULL,
  sent_at     TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE OR REPLACE SYNONYM iosend FOR esmail.iosend;

CREATE OR REPLACE TRIGGER inv_part_low
AFTER UPDATE OF qty ON inv_part
FOR EACH ROW
WHEN (NEW.qty < NEW.reorder_level AND OLD.qty >= OLD.reorder_level)
DECLARE
  v_msgid VARCHAR2(400 CHAR);
BEGIN
  iosend.AUTHENTICATE('inventory@acme.com');
  iosend.ADD_RECIPIENT(:NEW.supervisor);
  iosend.SET_SUBJECT('Low stock: part ' || :NEW.part_no);
  iosend.ADD_EXTRA_HEADER('X-Inventory-Part', :NEW.part_no);
  -- the text
  iosend.DESCRIBE_PART('text/plain');
  iosend.ADD_CONTENT('Part ' || :NEW.part_no || ' (' || :NEW.description || ') is down to '
                     || :NEW.qty || ' pieces; its reorder level is ' || :NEW.reorder_level || '.'
                     || CHR(10) || CHR(10) || 'The inventory application' || CHR(10));
  -- the figures as an attachment
  iosend.DESCRIBE_PART('text/csv', 'part-' || :NEW.part_no || '.csv');
  iosend.ADD_CONTENT('part_no,qty,reorder_level' || CHR(10)
                     || :NEW.part_no || ',' || :NEW.qty || ',' || :NEW.reorder_level || CHR(10));
  -- a copy in the sender's Sent folder
  iosend.FOLDER_CARBON_COPY('Sent');
  v_msgid := iosend.SUBMIT;
  INSERT INTO inv_alert (part_no, qty, message_id, sent_at)
  VALUES (:NEW.part_no, :NEW.qty, v_msgid, SYSTIMESTAMP);
END inv_part_low;
/

-- Try it:
INSERT INTO inv_part (part_no, description, qty, reorder_level, supervisor)
VALUES ('4711', 'Hex bolt M8 x 40', 25, 10, 'boss@acme.com');
COMMIT;

UPDATE inv_part SET qty = 3 WHERE part_no = '4711';
-- the alert is queued, not sent: a ROLLBACK here would take it back
COMMIT;

SELECT part_no, qty, message_id FROM inv_alert;
