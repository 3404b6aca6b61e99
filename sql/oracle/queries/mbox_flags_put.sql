UPDATE es_folder_message
SET flags = :flags, modseq = :modseq
WHERE folder_id = :folder_id AND msg_uid = :msg_uid
