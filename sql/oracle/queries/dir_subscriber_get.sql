SELECT subscriber_id, acked_seq
FROM es_dir_subscriber
WHERE subscriber_name = :subscriber_name
