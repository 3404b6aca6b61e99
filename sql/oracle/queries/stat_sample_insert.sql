INSERT INTO es_stat_sample (node_id, metric, metric_value, sampled_at)
VALUES (:node_id, :metric, :metric_value, :sampled_at)
