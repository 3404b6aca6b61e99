INSERT INTO es_folder (guid, owner_account_id, domain_id, parent_folder_id, folder_path, folder_kind, special_use, uidvalidity, next_uid, highest_modseq, message_count, created_at)
VALUES (:guid, :owner_account_id, :domain_id, :parent_folder_id, :folder_path, :folder_kind, :special_use, :uidvalidity, 1, 1, 0, :created_at)
RETURNING folder_id INTO :folder_id
