INSERT INTO es_dir_subscriber (subscriber_kind, subscriber_name, node_id, acked_seq, acked_at)
VALUES (:subscriber_kind, :subscriber_name, :node_id, :acked_seq, :acked_at)
