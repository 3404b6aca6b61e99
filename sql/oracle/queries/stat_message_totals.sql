SELECT COUNT(*), COALESCE(SUM(size_bytes), 0)
FROM es_message
