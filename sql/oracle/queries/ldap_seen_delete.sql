DELETE FROM es_ldap_seen
WHERE reader_name = :reader_name AND dn_key = :dn_key
