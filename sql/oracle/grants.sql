-- esmail: grants the role ESMAIL_SERVER the object privileges the server needs, on every table
-- of the schema. Run as the schema owner; install.sql and upgrade.sql run it last. It can be run
-- again at any time (a grant that exists already is not an error).
--
-- The server reads and writes every table (SELECT, INSERT, UPDATE, DELETE) and creates nothing;
-- es_schema_version is read only (steps are applied by the schema owner). The PL/SQL packages
-- and procedures (es_rule_run_proc, schema step 6; the packages of plsql/) get EXECUTE here too.
--
-- The role ESMAIL_API (created by create_owner.sql) is for the applications that use the PL/SQL
-- APIs: EXECUTE on IOSEND, IM_API, DAPLS, ES_RULES and ES_API, and SELECT on the view ES_RULES_V,
-- nothing on the tables. The packages check themselves who may act as which account and who may
-- administer (es_api_user; see docs/plsql-guide.md). A schema installed before the role existed
-- is told so, and the rest of the grants are made.

SET SERVEROUTPUT ON
WHENEVER SQLERROR EXIT SQL.SQLCODE

BEGIN
  FOR t IN (SELECT table_name
              FROM user_tables
             WHERE table_name LIKE 'ES\_%' ESCAPE '\'
               AND temporary = 'N'
               AND nested = 'NO'
               AND secondary = 'N'
               AND dropped = 'NO'
             ORDER BY table_name)
  LOOP
    IF t.table_name = 'ES_SCHEMA_VERSION' THEN
      EXECUTE IMMEDIATE 'GRANT SELECT ON "' || t.table_name || '" TO esmail_server';
    ELSE
      EXECUTE IMMEDIATE 'GRANT SELECT, INSERT, UPDATE, DELETE ON "' || t.table_name || '" TO esmail_server';
    END IF;
  END LOOP;
  FOR p IN (SELECT object_name
              FROM user_objects
             WHERE object_type IN ('PACKAGE', 'PROCEDURE')
               AND (object_name LIKE 'ES\_%' ESCAPE '\' OR object_name IN ('IOSEND', 'IM_API', 'DAPLS'))
             ORDER BY object_name)
  LOOP
    EXECUTE IMMEDIATE 'GRANT EXECUTE ON "' || p.object_name || '" TO esmail_server';
  END LOOP;
  DBMS_OUTPUT.PUT_LINE('ESMAIL_SERVER may use the tables and packages of ' || USER || '.');
END;
/

DECLARE
  e_no_role EXCEPTION;
  PRAGMA EXCEPTION_INIT(e_no_role, -1917);
BEGIN
  FOR p IN (SELECT object_name, object_type
              FROM user_objects
             WHERE (object_type = 'PACKAGE' AND object_name IN ('IOSEND', 'IM_API', 'DAPLS', 'ES_RULES', 'ES_API'))
                OR (object_type = 'VIEW' AND object_name = 'ES_RULES_V')
             ORDER BY object_name)
  LOOP
    IF p.object_type = 'VIEW' THEN
      EXECUTE IMMEDIATE 'GRANT SELECT ON "' || p.object_name || '" TO esmail_api';
    ELSE
      EXECUTE IMMEDIATE 'GRANT EXECUTE ON "' || p.object_name || '" TO esmail_api';
    END IF;
  END LOOP;
  DBMS_OUTPUT.PUT_LINE('ESMAIL_API may use the PL/SQL APIs of ' || USER || '.');
EXCEPTION
  WHEN e_no_role THEN
    DBMS_OUTPUT.PUT_LINE('No role ESMAIL_API: a DBA creates it (see create_owner.sql), then run grants.sql again.');
END;
/
