SELECT session_id
FROM es_session
WHERE last_active_at < :cutoff
ORDER BY last_active_at, session_id
FETCH FIRST :batch_size ROWS ONLY
