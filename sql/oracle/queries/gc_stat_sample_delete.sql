DELETE FROM es_stat_sample
WHERE sample_id = :sample_id AND sampled_at < :cutoff
