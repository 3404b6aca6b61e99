UPDATE es_dir_subscriber
SET acked_seq = :acked_seq, acked_at = :acked_at
WHERE subscriber_id = :subscriber_id AND acked_seq <= :acked_seq
