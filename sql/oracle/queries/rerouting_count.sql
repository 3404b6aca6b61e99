SELECT COUNT(*) FROM es_queue_entry e WHERE e.queue_name = 'REROUTING' AND e.node_id = :node_id
