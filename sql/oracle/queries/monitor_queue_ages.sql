SELECT queue_name, COUNT(*), MIN(created_at)
FROM es_queue_entry
WHERE node_id = :node_id
GROUP BY queue_name
