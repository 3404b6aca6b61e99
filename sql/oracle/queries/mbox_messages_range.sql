SELECT fm.msg_uid, fm.message_id, fm.flags, fm.modseq, fm.internal_date, m.size_bytes
FROM es_folder_message fm
JOIN es_message m ON m.message_id = fm.message_id
WHERE fm.folder_id = :folder_id AND fm.msg_uid BETWEEN :uid_from AND :uid_to
ORDER BY fm.msg_uid
