UPDATE es_queue_entry
SET queue_name = 'REMOTE', claimed_by = NULL, lease_until = NULL
WHERE queue_name = 'REROUTING' AND node_id = :node_id AND target_node_id <> :node_id
