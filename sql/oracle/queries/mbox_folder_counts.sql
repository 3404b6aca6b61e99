SELECT COUNT(*),
       COALESCE(SUM(CASE WHEN COALESCE(INSTR(fm.flags, '\Seen'), 0) = 0 THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN COALESCE(INSTR(fm.flags, '\Deleted'), 0) > 0 THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN fm.msg_uid >= :recent_uid THEN 1 ELSE 0 END), 0)
FROM es_folder_message fm
WHERE fm.folder_id = :folder_id
