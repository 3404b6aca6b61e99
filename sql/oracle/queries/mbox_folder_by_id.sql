SELECT f.folder_id, f.folder_path, f.special_use, f.uidvalidity, f.next_uid, f.highest_modseq, f.message_count, f.recent_uid
FROM es_folder f
WHERE f.owner_account_id = :account_id AND f.folder_id = :folder_id
