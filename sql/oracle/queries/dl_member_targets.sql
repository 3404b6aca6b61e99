SELECT m.member_object_id FROM es_dl_member m WHERE m.dl_object_id = :dl_object_id AND m.member_object_id IS NOT NULL
