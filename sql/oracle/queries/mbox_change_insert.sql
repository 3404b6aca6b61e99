INSERT INTO es_mail_change (account_id, folder_id, msg_uid, change_kind, modseq, changed_at)
VALUES (:account_id, :folder_id, :msg_uid, :change_kind, :modseq, :changed_at)
