DELETE FROM es_monitor_report
WHERE report_id = :report_id AND created_at < :cutoff
