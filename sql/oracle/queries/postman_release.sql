UPDATE es_queue_entry
SET claimed_by = NULL, lease_until = NULL
WHERE entry_id = :entry_id AND claimed_by = :claimed_by
