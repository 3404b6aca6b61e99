SELECT sample_id
FROM es_stat_sample
WHERE sampled_at < :cutoff
ORDER BY sampled_at, sample_id
LIMIT :batch_size
