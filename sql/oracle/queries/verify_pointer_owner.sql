SELECT fm.folder_id, fm.msg_uid, fm.account_id, f.owner_account_id
FROM es_folder_message fm
JOIN es_folder f ON f.folder_id = fm.folder_id
WHERE COALESCE(fm.account_id, 0) <> COALESCE(f.owner_account_id, 0)
ORDER BY fm.folder_id, fm.msg_uid
