UPDATE es_queue_entry
SET claimed_by = :claimed_by, lease_until = :lease_until
WHERE entry_id = :entry_id
  AND queue_name = 'SUBMISSION'
  AND (lease_until IS NULL OR lease_until < :now)
