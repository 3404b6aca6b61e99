-- esmail: grants the role ESMAIL_SERVER the object privileges the server needs, on every table
-- of the schema. Run as the schema owner; install.sql and upgrade.sql run it last. It can be run
-- again at any time (a grant that exists already is not an error).
--
-- The server reads and writes every table (SELECT, INSERT, UPDATE, DELETE) and creates nothing;
-- es_schema_version is read only (steps are applied by the schema owner). The PL/SQL packages
-- and procedures (es_rule_run_proc, schema step 6) get EXECUTE here too.

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
               AND object_name LIKE 'ES\_%' ESCAPE '\'
             ORDER BY object_name)
  LOOP
    EXECUTE IMMEDIATE 'GRANT EXECUTE ON "' || p.object_name || '" TO esmail_server';
  END LOOP;
  DBMS_OUTPUT.PUT_LINE('ESMAIL_SERVER may use the tables and packages of ' || USER || '.');
END;
/
