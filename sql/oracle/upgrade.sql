-- esmail: upgrades the schema to the version of this source tree. Run as the schema owner:
--
--   sqlplus esmail@//dbhost:1521/mailpdb @sql/oracle/upgrade.sql
--   sql esmail@//dbhost:1521/mailpdb @sql/oracle/upgrade.sql             (SQLcl)
--
-- The steps are the files sql/oracle/steps/VNNN__name.sql. A schema has every step up to
--   SELECT MAX(version) FROM es_schema_version;
-- and an upgrade runs the newer steps, in order, each one once: that is what this script does
-- (run_step.sql skips the steps the schema has). A DBA may as well run the missing step files
-- by hand, in order, with the same DEFINEs as install.sql, then grants.sql. Each step records
-- itself in es_schema_version as its last statement, as `esmail upgrade` does when the server
-- applies the same files itself.
--
-- Substitution variables: as for install.sql (data_tablespace, index_tablespace, lob_tablespace,
-- each defaulting to the owner's default tablespace). Take a backup first.

SET VERIFY OFF
SET FEEDBACK ON
SET DEFINE ON
WHENEVER SQLERROR EXIT SQL.SQLCODE
WHENEVER OSERROR EXIT FAILURE

SET TERMOUT OFF
COLUMN data_tablespace NEW_VALUE data_tablespace NOPRINT
COLUMN index_tablespace NEW_VALUE index_tablespace NOPRINT
COLUMN lob_tablespace NEW_VALUE lob_tablespace NOPRINT
SELECT NULL AS data_tablespace, NULL AS index_tablespace, NULL AS lob_tablespace
FROM dual
WHERE 1 = 0;
SELECT NVL(UPPER('&&data_tablespace'), default_tablespace) AS data_tablespace,
       NVL(UPPER('&&index_tablespace'), NVL(UPPER('&&data_tablespace'), default_tablespace)) AS index_tablespace,
       NVL(UPPER('&&lob_tablespace'), NVL(UPPER('&&data_tablespace'), default_tablespace)) AS lob_tablespace
FROM user_users;
SET TERMOUT ON

PROMPT Schema version before the upgrade (no table es_schema_version: run install.sql instead):
SELECT MAX(version) AS schema_version FROM es_schema_version;

-- Every step after the first, in order, one line each, for example (step 2):
--   @@run_step.sql 2 V002__name.sql
-- Step 1 is the base schema, which install.sql creates.

@@run_step.sql 2 V002__process_runtime.sql
@@run_step.sql 3 V003__mail_flow.sql
@@run_step.sql 4 V004__message_parts.sql
@@run_step.sql 5 V005__protocol_servers.sql
@@run_step.sql 6 V006__rules.sql
@@run_step.sql 7 V007__mailbox_requests.sql
@@run_step.sql 8 V008__collector_retention.sql
@@run_step.sql 9 V009__session_deadlines.sql
@@run_step.sql 10 V010__monitor.sql
@@run_step.sql 11 V011__ldap_sync.sql
@@run_step.sql 12 V012__ldap_pull.sql

-- the PL/SQL packages and the view listing rules, replaced by this version's
@@plsql.sql
@@grants.sql

PROMPT Schema version after the upgrade:
SELECT MAX(version) AS schema_version FROM es_schema_version;
