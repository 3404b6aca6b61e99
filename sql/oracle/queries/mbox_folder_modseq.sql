SELECT f.highest_modseq
FROM es_folder f
WHERE f.folder_id = :folder_id
