SELECT test_name, severity, summary, details, created_at
FROM es_monitor_report
WHERE node_id = :node_id AND test_name = :test_name
ORDER BY report_id DESC
FETCH FIRST :max_rows ROWS ONLY
