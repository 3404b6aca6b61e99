-- esmail: installs (or replaces) the PL/SQL packages and the view listing rules; run by
-- install.sql and upgrade.sql after the steps, or on its own by the schema owner after
-- `esmail upgrade`:
--
--   sqlplus esmail@//dbhost:1521/mailpdb @sql/oracle/plsql.sql
--
-- Every unit is CREATE OR REPLACE: running this again is harmless. The packages are described
-- in docs/plsql-guide.md. SHA-256 of the messages IOSEND builds comes from DBMS_CRYPTO: the
-- owner needs EXECUTE on it (create_owner.sql grants it).
--
-- Order matters: es_api (used by all), the view (it calls es_api), IOSEND before IM_API (IM_API
-- forwards through IOSEND).

WHENEVER SQLERROR EXIT SQL.SQLCODE

@@../../plsql/es_api.pks
@@../../plsql/es_api.pkb
@@views/es_rules_v.sql
@@../../plsql/es_rules.pks
@@../../plsql/es_rules.pkb
@@../../plsql/iosend.pks
@@../../plsql/iosend.pkb
@@../../plsql/im_api.pks
@@../../plsql/im_api.pkb
@@../../plsql/dapls.pks
@@../../plsql/dapls.pkb

-- A unit that compiled with errors is only a warning to SQL*Plus: stop here instead.
DECLARE
  v_bad VARCHAR2(4000);
BEGIN
  FOR o IN (SELECT object_type, object_name
              FROM user_objects
             WHERE status <> 'VALID'
               AND object_name IN ('ES_API', 'ES_RULES', 'ES_RULES_V', 'IOSEND', 'IM_API', 'DAPLS')
             ORDER BY object_name, object_type)
  LOOP
    v_bad := v_bad || ' ' || o.object_type || ' ' || o.object_name;
  END LOOP;
  IF v_bad IS NOT NULL THEN
    RAISE_APPLICATION_ERROR(-20000, 'not valid:' || v_bad || ' (SELECT * FROM user_errors)');
  END IF;
END;
/
