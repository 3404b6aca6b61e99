DELETE FROM es_dl_member WHERE dl_object_id = :dl_object_id
