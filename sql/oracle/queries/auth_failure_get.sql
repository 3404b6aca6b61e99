SELECT COALESCE(SUM(CASE WHEN f.login_name = :login_name THEN f.failures ELSE 0 END), 0),
       COALESCE(SUM(f.failures), 0)
FROM es_auth_failure f
WHERE f.remote_addr = :remote_addr AND f.last_failed_at >= :since
