-- esmail schema, step 11 (Oracle dialect): IOODSSYNC, the push of the directory to LDAP.
-- The same logical change as sql/sqlite/steps/V011__ldap_sync.sql.
--
-- IOODSSYNC (`esmail ioodssync`) writes the directory to an LDAP server and then follows the
-- directory change log as an LDAP subscriber (es_dir_subscriber, step 1); docs/ldap.md. These
-- are its parameters; it is not started by `startup all` until an administrator sets them.
-- Run by install.sql / upgrade.sql (SQL*Plus), or by `esmail upgrade`.

INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioodssync', 'ldap_url', 'STRING', NULL, 'LDAP server to push the directory to: ldap://host:port or ldaps://host:port');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioodssync', 'base_dn', 'STRING', NULL, 'DN under which the domains'' containers go (ou=DOMAIN,BASE_DN)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioodssync', 'bind_dn', 'STRING', NULL, 'DN to bind as (empty: anonymous)');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioodssync', 'bind_password_file', 'STRING', NULL, 'File whose first line is the bind password');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioodssync', 'starttls', 'BOOLEAN', '0', 'Start TLS on an ldap:// connection');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioodssync', 'interval', 'INTEGER', '5', 'Seconds between two reads of the directory change log when nothing is pending');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioodssync', 'retry_seconds', 'INTEGER', '30', 'Seconds before trying again after the LDAP server failed');
INSERT INTO es_param_default (type_name, param_name, param_kind, param_value, description) VALUES ('ioodssync', 'batch_size', 'INTEGER', '200', 'Changes read and acknowledged at a time');

-- it needs an LDAP server: started by `startup process` once ldap_url and base_dn are set
UPDATE es_param_default SET param_value = 'DISABLED'
WHERE type_name = 'ioodssync' AND param_name = 'defaultStartUp';

-- recorded last: the step is complete
INSERT INTO es_schema_version (version, description, applied_at, applied_by)
VALUES (11, 'IOODSSYNC: the directory pushed to LDAP', SYSTIMESTAMP, USER);

COMMIT;
