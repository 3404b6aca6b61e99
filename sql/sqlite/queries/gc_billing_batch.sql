SELECT billing_id
FROM es_billing
WHERE created_at < :cutoff
ORDER BY created_at, billing_id
LIMIT :batch_size
