-- esmail schema, step 12 (Oracle dialect): ODSIOSYNC, additions and deletions pulled from LDAP.
-- The same logical change as sql/sqlite/steps/V012__ldap_pull.sql.
--
-- ODSIOSYNC (`esmail odsiosync`) reads the persons of an LDAP directory and brings the ones
-- added there into esmail's directory, and deletes from it the ones deleted there; updates are
-- not carried back (docs/ldap.md). es_ldap_seen is what it found at its last read. It is not
-- started by `startup all` until an administrator sets its parameters.
-- Run by install.sql / upgrade.sql (SQL*Plus), or by `esmail upgrade`.

CREATE TABLE es_ldap_seen (
  reader_name          VARCHAR2(128 CHAR)        NOT NULL,
  dn_key               VARCHAR2(64 CHAR)         NOT NULL,
  dn                   VARCHAR2(2000 CHAR)       NOT NULL,
  seen_at              TIMESTAMP WITH TIME ZONE  NOT NULL,
  CONSTRAINT es_ldap_seen_pk PRIMARY KEY (reader_name, dn_key)
    USING INDEX TABLESPACE &&index_tablespace
)
TABLESPACE &&data_tablespace;

COMMENT ON TABLE es_ldap_seen IS 'The LDAP entries an ODSIOSYNC instance found at its last read: what is new since, and what has gone';
COMMENT ON COLUMN es_ldap_seen.dn_key IS 'SHA-256 (hex) of the DN in lower case';

INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('odsiosync', 'ldap_url', 'STRING', NULL, 'LDAP server to read additions and deletions from: ldap://host:port or ldaps://host:port');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('odsiosync', 'base_dn', 'STRING', NULL, 'DN under which the domains'' containers are (ou=DOMAIN,BASE_DN)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('odsiosync', 'bind_dn', 'STRING', NULL, 'DN to bind as (empty: anonymous)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('odsiosync', 'bind_password_file', 'STRING', NULL, 'File whose first line is the bind password');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('odsiosync', 'starttls', 'BOOLEAN', '0', 'Start TLS on an ldap:// connection');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('odsiosync', 'interval', 'INTEGER', '60', 'Seconds between two reads of the LDAP directory');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('odsiosync', 'max_deletions', 'INTEGER', '10', 'Persons one round may delete; a round that would delete more deletes nothing and says so');

-- it needs an LDAP server: started by `startup process` once ldap_url and base_dn are set
UPDATE es_param_default SET param_value = 'DISABLED'
WHERE type_name = 'odsiosync' AND param_name = 'defaultStartUp';

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (12, 'ODSIOSYNC: additions and deletions pulled from LDAP', SYSTIMESTAMP, USER);

COMMIT;
