DELETE FROM es_queue_entry
WHERE entry_id = :entry_id AND claimed_by = :claimed_by
