SELECT queue_name, COUNT(*)
FROM es_queue_entry
WHERE node_id = :node_id
GROUP BY queue_name
