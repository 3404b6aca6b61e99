INSERT INTO es_tls_identity (identity_name, cert_pem, key_pem, not_after, created_at)
VALUES (:identity_name, :cert_pem, :key_pem, :not_after, :created_at)
