SELECT MIN(e.modseq)
FROM es_expunged e
WHERE e.folder_id = :folder_id
