INSERT INTO es_expunged (folder_id, msg_uid, modseq, expunged_at)
VALUES (:folder_id, :msg_uid, :modseq, :expunged_at)
