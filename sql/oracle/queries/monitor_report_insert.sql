INSERT INTO es_monitor_report (node_id, test_name, severity, summary, details, created_at)
VALUES (:node_id, :test_name, :severity, :summary, :details, :created_at)
