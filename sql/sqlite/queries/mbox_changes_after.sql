SELECT c.change_seq, c.account_id, c.folder_id, c.change_kind, c.modseq
FROM es_mail_change c
WHERE c.change_seq > :after_seq
ORDER BY c.change_seq
LIMIT :max_rows
