SELECT metric, sampled_at, metric_value
FROM es_stat_sample
WHERE node_id = :node_id AND sampled_at >= :since AND metric LIKE :metric_prefix
ORDER BY sampled_at, metric
