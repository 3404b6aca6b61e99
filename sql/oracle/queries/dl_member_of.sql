SELECT m.dl_object_id, m.member_pos, m.member_address, m.member_object_id
FROM es_dl_member m WHERE m.dl_object_id = :object_id ORDER BY m.member_pos
