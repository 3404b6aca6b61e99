SELECT qe.entry_id, qe.queue_name, qe.message_id
FROM es_queue_entry qe
WHERE (qe.message_id IS NULL AND qe.queue_name <> :dead_queue)
   OR (qe.message_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM es_message m WHERE m.message_id = qe.message_id))
ORDER BY qe.entry_id
