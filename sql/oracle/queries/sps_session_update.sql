UPDATE es_session
SET login_name = :login_name, account_id = :account_id, session_state = :session_state, last_active_at = :last_active_at
WHERE session_id = :session_id
