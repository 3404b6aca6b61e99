INSERT INTO es_queue_entry (guid, queue_name, node_id, target_node_id, gateway_name, message_id, sender_address,
                            submitted_by, priority, attempts, next_attempt_at, not_before, created_at)
VALUES (:guid, :queue_name, :node_id, :target_node_id, :gateway_name, :message_id, :sender_address,
        :submitted_by, :priority, 0, :next_attempt_at, :not_before, :created_at)
RETURNING entry_id INTO :entry_id
