SELECT billing_id
FROM es_billing
WHERE created_at < :cutoff
ORDER BY created_at, billing_id
FETCH FIRST :batch_size ROWS ONLY
