SELECT r.test_name, r.severity, r.summary, r.details, r.created_at
FROM es_monitor_report r
WHERE r.node_id = :node_id
  AND r.report_id = (SELECT MAX(l.report_id) FROM es_monitor_report l
                     WHERE l.node_id = r.node_id AND l.test_name = r.test_name)
ORDER BY r.test_name
