SELECT e.msg_uid, e.modseq
FROM es_expunged e
WHERE e.folder_id = :folder_id AND e.modseq > :modseq
ORDER BY e.msg_uid
