INSERT INTO es_auth_failure (remote_addr, login_name, failures, first_failed_at, last_failed_at)
VALUES (:remote_addr, :login_name, 1, :failed_at, :failed_at)
ON CONFLICT (remote_addr, login_name) DO UPDATE SET
  failures = CASE WHEN last_failed_at < :stale_before THEN 1 ELSE failures + 1 END,
  first_failed_at = CASE WHEN last_failed_at < :stale_before THEN excluded.first_failed_at ELSE first_failed_at END,
  last_failed_at = excluded.last_failed_at
