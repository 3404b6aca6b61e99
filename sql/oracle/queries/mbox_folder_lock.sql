UPDATE es_folder
SET highest_modseq = highest_modseq
WHERE folder_id = :folder_id
