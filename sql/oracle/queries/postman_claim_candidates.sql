SELECT e.entry_id
FROM es_queue_entry e
WHERE e.queue_name = 'SUBMISSION'
  AND e.node_id = :node_id
  AND e.next_attempt_at <= :now
  AND (e.not_before IS NULL OR e.not_before <= :now)
  AND (e.lease_until IS NULL OR e.lease_until < :now)
  AND (:remote_flag = 1
       OR EXISTS (SELECT 1 FROM es_queue_recipient r
                  WHERE r.entry_id = e.entry_id AND r.rcpt_status = 'PENDING'))
ORDER BY e.next_attempt_at, e.entry_id
FETCH FIRST :batch_size ROWS ONLY
