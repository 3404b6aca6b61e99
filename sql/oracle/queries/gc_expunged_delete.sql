DELETE FROM es_expunged
WHERE folder_id = :folder_id AND msg_uid = :msg_uid AND expunged_at < :cutoff
