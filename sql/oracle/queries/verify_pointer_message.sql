SELECT fm.folder_id, fm.msg_uid, fm.message_id
FROM es_folder_message fm
WHERE NOT EXISTS (SELECT 1 FROM es_message m WHERE m.message_id = fm.message_id)
ORDER BY fm.folder_id, fm.msg_uid
