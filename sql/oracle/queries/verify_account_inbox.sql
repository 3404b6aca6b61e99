SELECT a.object_id, o.object_name, d.qualified_name
FROM es_account a
JOIN es_dir_object o ON o.object_id = a.object_id
JOIN es_domain d ON d.domain_id = o.domain_id
WHERE NOT EXISTS (SELECT 1 FROM es_folder f
                  WHERE f.owner_account_id = a.object_id AND f.folder_path = :folder_path)
ORDER BY a.object_id
