SELECT identity_name, cert_pem, key_pem, not_after, created_at FROM es_tls_identity WHERE identity_name = :identity_name
