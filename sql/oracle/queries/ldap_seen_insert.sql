INSERT INTO es_ldap_seen (reader_name, dn_key, dn, seen_at)
VALUES (:reader_name, :dn_key, :dn, :seen_at)
