SELECT entry_id
FROM es_queue_entry
WHERE queue_name = 'COLLECTOR'
ORDER BY entry_id
LIMIT :batch_size
