SELECT report_id
FROM es_monitor_report
WHERE created_at < :cutoff
ORDER BY created_at, report_id
LIMIT :batch_size
