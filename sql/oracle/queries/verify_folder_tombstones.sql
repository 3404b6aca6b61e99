SELECT f.folder_id, f.folder_path, o.object_name, d.qualified_name,
       f.next_uid, f.highest_modseq,
       MAX(x.msg_uid) AS max_uid, MAX(x.modseq) AS max_modseq
FROM es_folder f
JOIN es_expunged x ON x.folder_id = f.folder_id
LEFT JOIN es_dir_object o ON o.object_id = f.owner_account_id
LEFT JOIN es_domain d ON d.domain_id = f.domain_id
GROUP BY f.folder_id, f.folder_path, o.object_name, d.qualified_name,
         f.next_uid, f.highest_modseq
HAVING MAX(x.msg_uid) >= f.next_uid
    OR MAX(x.modseq) > f.highest_modseq
ORDER BY f.folder_id
