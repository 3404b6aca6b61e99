UPDATE es_queue_entry
SET lease_until = :lease_until
WHERE entry_id = :entry_id AND queue_name = 'SUBMISSION' AND claimed_by = :claimed_by
