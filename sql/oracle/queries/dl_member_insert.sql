INSERT INTO es_dl_member (dl_object_id, member_pos, member_address, member_object_id)
VALUES (:dl_object_id, :member_pos, :member_address, :member_object_id)
