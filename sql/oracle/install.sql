-- esmail: installs the schema. Run as the schema owner (created by create_owner.sql), from the
-- root of the esmail source tree or with the path of this file:
--
--   sqlplus esmail@//dbhost:1521/mailpdb @sql/oracle/install.sql
--   sql esmail@//dbhost:1521/mailpdb @sql/oracle/install.sql             (SQLcl)
--
-- Substitution variables, each taking its default when not DEFINEd before the script runs:
--   data_tablespace    the owner's default tablespace   tables
--   index_tablespace   data_tablespace                  indexes
--   lob_tablespace     data_tablespace                  SecureFile LOBs (message content)
-- DEFINE the same values as for create_owner.sql, for example:
--   sqlplus esmail@//dbhost:1521/mailpdb
--   SQL> DEFINE index_tablespace = ESMAIL_INDEX
--   SQL> DEFINE lob_tablespace = ESMAIL_LOB
--   SQL> @sql/oracle/install.sql
--
-- The first error stops the script (and SQL*Plus) with the Oracle error code as exit status.
-- Each step records itself in es_schema_version as its last statement: a schema that has
-- version 1 is complete. An install stopped half-way is best dropped and started again
-- (DROP USER ... CASCADE as the DBA, then create_owner.sql).

SET VERIFY OFF
SET FEEDBACK ON
SET DEFINE ON
WHENEVER SQLERROR EXIT SQL.SQLCODE
WHENEVER OSERROR EXIT FAILURE

-- Defaults. A query returning no row defines each NEW_VALUE variable that is not defined yet
-- (as empty) and leaves the defined ones alone. The second query fills in the empty ones.
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

PROMPT Installing the esmail schema into the schema of the current user
PROMPT Data tablespace:  &&data_tablespace
PROMPT Index tablespace: &&index_tablespace
PROMPT LOB tablespace:   &&lob_tablespace

-- the steps, in order (a new step is added as one more line)
@@steps/V001__base.sql
@@steps/V002__process_runtime.sql
@@steps/V003__mail_flow.sql
@@steps/V004__message_parts.sql
@@steps/V005__protocol_servers.sql
@@steps/V006__rules.sql
@@steps/V007__mailbox_requests.sql
@@steps/V008__collector_retention.sql
@@steps/V009__session_deadlines.sql
@@steps/V010__monitor.sql
@@steps/V011__ldap_sync.sql
@@steps/V012__ldap_pull.sql

-- the PL/SQL packages (plsql/) and the view listing rules
@@plsql.sql

@@grants.sql

PROMPT The esmail schema is installed:
SELECT MAX(version) AS schema_version FROM es_schema_version;
