UPDATE es_queue_entry
SET claimed_by = NULL, lease_until = NULL, attempts = attempts + 1,
    next_attempt_at = :next_attempt_at, last_error = :last_error
WHERE entry_id = :entry_id AND claimed_by = :claimed_by
