-- esmail schema, step 12 (embedded store, SQLite dialect): ODSIOSYNC, additions and
-- deletions pulled from LDAP.
-- The same logical change as sql/oracle/steps/V012__ldap_pull.sql (see there).

CREATE TABLE es_ldap_seen (
  reader_name          TEXT     NOT NULL,
  dn_key               TEXT     NOT NULL,
  dn                   TEXT     NOT NULL,
  seen_at              TEXT     NOT NULL,
  PRIMARY KEY (reader_name, dn_key)
);

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
VALUES (12, 'ODSIOSYNC: additions and deletions pulled from LDAP', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'esmail');
