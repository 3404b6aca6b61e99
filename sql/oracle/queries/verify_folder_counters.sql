SELECT f.folder_id, f.folder_path, o.object_name, d.qualified_name,
       f.message_count, f.next_uid, f.highest_modseq,
       COUNT(fm.msg_uid) AS pointers,
       COALESCE(MAX(fm.msg_uid), 0) AS max_uid,
       COALESCE(MAX(fm.modseq), 0) AS max_modseq
FROM es_folder f
LEFT JOIN es_dir_object o ON o.object_id = f.owner_account_id
LEFT JOIN es_domain d ON d.domain_id = f.domain_id
LEFT JOIN es_folder_message fm ON fm.folder_id = f.folder_id
GROUP BY f.folder_id, f.folder_path, o.object_name, d.qualified_name,
         f.message_count, f.next_uid, f.highest_modseq
HAVING f.message_count <> COUNT(fm.msg_uid)
    OR f.next_uid <= COALESCE(MAX(fm.msg_uid), 0)
    OR f.highest_modseq < COALESCE(MAX(fm.modseq), 0)
ORDER BY f.folder_id
