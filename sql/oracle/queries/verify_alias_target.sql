SELECT a.object_id, o.object_name, a.target_address, a.target_object_id
FROM es_alias a
LEFT JOIN es_dir_object o ON o.object_id = a.object_id
WHERE a.target_object_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM es_dir_object t WHERE t.object_id = a.target_object_id)
ORDER BY a.object_id
