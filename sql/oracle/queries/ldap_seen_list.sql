SELECT dn_key, dn
FROM es_ldap_seen
WHERE reader_name = :reader_name
