-- esmail: creates the schema owner and the roles ESMAIL_SERVER and ESMAIL_API.
--
-- Run as a DBA (SYSTEM, or a user with CREATE USER, CREATE ROLE, GRANT ANY PRIVILEGE and
-- GRANT ANY OBJECT PRIVILEGE), connected to the database (in a multitenant database: the PDB)
-- that will hold esmail:
--
--   sqlplus system@//dbhost:1521/mailpdb @sql/oracle/create_owner.sql
--   sql system@//dbhost:1521/mailpdb @sql/oracle/create_owner.sql        (SQLcl)
--
-- Substitution variables, each taking its default when not DEFINEd before the script runs:
--   schema_owner       ESMAIL
--   schema_password    asked for, without echo, when not defined
--   data_tablespace    USERS     the owner's default tablespace
--   index_tablespace   USERS
--   lob_tablespace     USERS     must be an ASSM tablespace (SecureFile LOBs)
-- For example, at the SQL prompt:
--   DEFINE data_tablespace = ESMAIL_DATA
--   DEFINE index_tablespace = ESMAIL_INDEX
--   DEFINE lob_tablespace = ESMAIL_LOB
--   @sql/oracle/create_owner.sql
--
-- The owner gets unlimited quota on the three tablespaces and only the system privileges that
-- installing and upgrading the schema need, and EXECUTE on DBMS_CRYPTO (for IOSEND). The server
-- connects as another user that holds the role ESMAIL_SERVER (see docs/dba-guide.md);
-- applications that use the PL/SQL APIs hold ESMAIL_API (docs/plsql-guide.md). The roles are
-- created once per database: running this script again for a second schema reuses them.

SET VERIFY OFF
SET FEEDBACK ON
WHENEVER SQLERROR EXIT SQL.SQLCODE
WHENEVER OSERROR EXIT FAILURE

-- Defaults. A query returning no row defines each NEW_VALUE variable that is not defined yet
-- (as empty) and leaves the defined ones alone. The second query fills in the empty ones.
SET TERMOUT OFF
COLUMN schema_owner NEW_VALUE schema_owner NOPRINT
COLUMN schema_password NEW_VALUE schema_password NOPRINT
COLUMN data_tablespace NEW_VALUE data_tablespace NOPRINT
COLUMN index_tablespace NEW_VALUE index_tablespace NOPRINT
COLUMN lob_tablespace NEW_VALUE lob_tablespace NOPRINT
COLUMN es_password_step NEW_VALUE es_password_step NOPRINT
SELECT NULL AS schema_owner, NULL AS schema_password, NULL AS data_tablespace,
       NULL AS index_tablespace, NULL AS lob_tablespace
FROM dual
WHERE 1 = 0;
SELECT NVL(UPPER('&&schema_owner'), 'ESMAIL') AS schema_owner,
       NVL(UPPER('&&data_tablespace'), 'USERS') AS data_tablespace,
       NVL(UPPER('&&index_tablespace'), 'USERS') AS index_tablespace,
       NVL(UPPER('&&lob_tablespace'), 'USERS') AS lob_tablespace,
       CASE WHEN '&&schema_password' IS NULL THEN 'ask_password.sql' ELSE 'nothing.sql' END AS es_password_step
FROM dual;
SET TERMOUT ON

PROMPT Schema owner:     &&schema_owner
PROMPT Data tablespace:  &&data_tablespace
PROMPT Index tablespace: &&index_tablespace
PROMPT LOB tablespace:   &&lob_tablespace

@@&&es_password_step

CREATE USER &&schema_owner IDENTIFIED BY "&&schema_password"
  DEFAULT TABLESPACE &&data_tablespace
  QUOTA UNLIMITED ON &&data_tablespace;

UNDEFINE schema_password

ALTER USER &&schema_owner QUOTA UNLIMITED ON &&index_tablespace;
ALTER USER &&schema_owner QUOTA UNLIMITED ON &&lob_tablespace;

GRANT CREATE SESSION, CREATE TABLE, CREATE SEQUENCE, CREATE VIEW, CREATE PROCEDURE,
  CREATE TRIGGER, CREATE TYPE TO &&schema_owner;

-- The role of the server connections. The schema owner grants it the object privileges
-- (sql/oracle/grants.sql, run by install.sql), the DBA grants it to the server users.
BEGIN
  EXECUTE IMMEDIATE 'CREATE ROLE esmail_server';
EXCEPTION
  WHEN OTHERS THEN
    IF SQLCODE != -1921 THEN
      RAISE;
    END IF;
END;
/

-- The role of the applications that use the PL/SQL APIs (IOSEND, IM_API, DAPLS, ES_RULES):
-- EXECUTE on the packages only (grants.sql); the DBA grants it to the application users.
BEGIN
  EXECUTE IMMEDIATE 'CREATE ROLE esmail_api';
EXCEPTION
  WHEN OTHERS THEN
    IF SQLCODE != -1921 THEN
      RAISE;
    END IF;
END;
/

-- IOSEND stores the SHA-256 of each message it builds (es_message.sha256) with DBMS_CRYPTO,
-- which is not granted to PUBLIC; a definer's rights package needs the grant directly.
GRANT EXECUTE ON SYS.DBMS_CRYPTO TO &&schema_owner;

PROMPT Created the user &&schema_owner and the roles ESMAIL_SERVER and ESMAIL_API.
PROMPT Next, connected as &&schema_owner: @sql/oracle/install.sql
