-- esmail sample: users and public distribution lists from PL/SQL with DAPLS.
--
-- Run as the esmail schema owner or an API administrator (es_api_user.may_admin = 1). Each
-- call is a request the Postman runs after the commit, as iofcmgr would run the statement.

SET SERVEROUTPUT ON

DECLARE
  v_user NUMBER;
  v_list NUMBER;
BEGIN
  -- no password hash: the account cannot log in until one is set (iofcmgr: modify person
  -- username=mlopez password=...;), or pass an argon2 PHC string made elsewhere
  v_user := dapls.CreateUser('mlopez', 'acme.com',
                             p_firstname => 'Maria', p_lastname => 'Lopez',
                             p_quota_bytes => 200 * 1024 * 1024);
  v_list := dapls.CreateList('stock-alerts', 'acme.com',
                             p_members => 'boss@acme.com, mlopez@acme.com',
                             p_description => 'Who hears about low stock');
  DBMS_OUTPUT.PUT_LINE('requests ' || v_user || ' and ' || v_list);
  -- the inventory application may send as inventory@acme.com
  dapls.GrantAccount('INVENTORY', 'inventory@acme.com');
END;
/
COMMIT;

-- a moment later, once the Postman has run them:
SELECT request_id, request_state, result_text, error_text
  FROM es_admin_request
 ORDER BY request_id DESC
 FETCH FIRST 5 ROWS ONLY;
