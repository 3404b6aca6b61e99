SELECT e.entry_id
FROM es_queue_entry e
WHERE e.queue_name = 'GATEWAY'
  AND e.node_id = :node_id
  AND e.next_attempt_at <= :now
  AND (e.lease_until IS NULL OR e.lease_until < :now)
ORDER BY e.next_attempt_at, e.entry_id
LIMIT :batch_size
