INSERT INTO es_folder_message (folder_id, msg_uid, message_id, account_id, flags, modseq, internal_date)
VALUES (:folder_id, :msg_uid, :message_id, :account_id, :flags, :modseq, :internal_date)
