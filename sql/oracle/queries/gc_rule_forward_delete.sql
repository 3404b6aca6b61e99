DELETE FROM es_rule_forward
WHERE message_id = :message_id AND account_id = :account_id AND forwarded_at < :cutoff
  AND NOT EXISTS (SELECT 1 FROM es_queue_entry qe WHERE qe.message_id = es_rule_forward.message_id)
