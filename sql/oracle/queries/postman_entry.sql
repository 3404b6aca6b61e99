SELECT e.entry_id, e.guid, e.message_id, e.sender_address, e.submitted_by, e.priority, e.attempts, e.created_at
FROM es_queue_entry e
WHERE e.entry_id = :entry_id AND e.claimed_by = :claimed_by
