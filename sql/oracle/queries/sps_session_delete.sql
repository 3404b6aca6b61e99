DELETE FROM es_session
WHERE session_id = :session_id
