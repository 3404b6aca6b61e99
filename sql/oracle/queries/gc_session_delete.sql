DELETE FROM es_session
WHERE session_id = :session_id AND last_active_at < :cutoff
