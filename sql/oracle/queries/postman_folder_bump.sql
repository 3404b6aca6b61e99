UPDATE es_folder
SET next_uid = next_uid + 1, highest_modseq = highest_modseq + 1, message_count = message_count + 1
WHERE folder_id = :folder_id
