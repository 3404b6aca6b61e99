SELECT dm.dl_object_id, dm.member_pos, o.object_name, dm.member_address, dm.member_object_id
FROM es_dl_member dm
LEFT JOIN es_dir_object o ON o.object_id = dm.dl_object_id
WHERE dm.member_object_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM es_dir_object t WHERE t.object_id = dm.member_object_id)
ORDER BY dm.dl_object_id, dm.member_pos
