SELECT a.object_id, o.object_name, d.qualified_name, a.used_bytes,
       COALESCE(SUM(m.size_bytes), 0) AS pointed_bytes
FROM es_account a
JOIN es_dir_object o ON o.object_id = a.object_id
JOIN es_domain d ON d.domain_id = o.domain_id
LEFT JOIN es_folder_message fm ON fm.account_id = a.object_id
LEFT JOIN es_message m ON m.message_id = fm.message_id
GROUP BY a.object_id, o.object_name, d.qualified_name, a.used_bytes
HAVING a.used_bytes <> COALESCE(SUM(m.size_bytes), 0)
ORDER BY a.object_id
