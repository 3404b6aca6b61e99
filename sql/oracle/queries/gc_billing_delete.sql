DELETE FROM es_billing
WHERE billing_id = :billing_id AND created_at < :cutoff
