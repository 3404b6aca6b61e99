UPDATE es_queue_entry
SET queue_name = 'DEAD', claimed_by = NULL, lease_until = NULL, attempts = :attempts,
    last_error = :last_error
WHERE entry_id = :entry_id AND claimed_by = :claimed_by
