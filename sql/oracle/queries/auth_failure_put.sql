MERGE INTO es_auth_failure f
USING (SELECT :remote_addr AS remote_addr, :login_name AS login_name FROM dual) src
ON (f.remote_addr = src.remote_addr AND f.login_name = src.login_name)
WHEN MATCHED THEN UPDATE SET
  f.failures = CASE WHEN f.last_failed_at < :stale_before THEN 1 ELSE f.failures + 1 END,
  f.first_failed_at = CASE WHEN f.last_failed_at < :stale_before THEN :failed_at ELSE f.first_failed_at END,
  f.last_failed_at = :failed_at
WHEN NOT MATCHED THEN INSERT (remote_addr, login_name, failures, first_failed_at, last_failed_at)
  VALUES (src.remote_addr, src.login_name, 1, :failed_at, :failed_at)
