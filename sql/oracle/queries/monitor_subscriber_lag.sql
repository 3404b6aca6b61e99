SELECT s.subscriber_name, COUNT(ch.change_seq), MIN(ch.changed_at)
FROM es_dir_subscriber s
LEFT JOIN es_dir_change ch ON ch.change_seq > s.acked_seq
GROUP BY s.subscriber_name
ORDER BY s.subscriber_name
