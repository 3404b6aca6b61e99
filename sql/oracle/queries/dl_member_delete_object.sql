DELETE FROM es_dl_member WHERE member_object_id = :member_object_id
