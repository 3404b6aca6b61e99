SELECT message_id, account_id
FROM es_rule_forward
WHERE forwarded_at < :cutoff
  AND NOT EXISTS (SELECT 1 FROM es_queue_entry qe WHERE qe.message_id = es_rule_forward.message_id)
ORDER BY forwarded_at, message_id, account_id
FETCH FIRST :batch_size ROWS ONLY
