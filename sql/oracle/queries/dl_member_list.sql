SELECT m.dl_object_id, m.member_pos, m.member_address, m.member_object_id
FROM es_dl_member m JOIN es_dir_object o ON o.object_id = m.dl_object_id
WHERE o.object_class = :object_class AND (:domain_id = 0 OR o.domain_id = :domain_id)
ORDER BY m.dl_object_id, m.member_pos
