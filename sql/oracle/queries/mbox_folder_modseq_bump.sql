UPDATE es_folder
SET highest_modseq = highest_modseq + 1
WHERE folder_id = :folder_id
