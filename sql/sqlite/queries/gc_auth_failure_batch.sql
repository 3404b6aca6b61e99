SELECT remote_addr, login_name
FROM es_auth_failure
WHERE last_failed_at < :cutoff
ORDER BY last_failed_at, remote_addr, login_name
LIMIT :batch_size
