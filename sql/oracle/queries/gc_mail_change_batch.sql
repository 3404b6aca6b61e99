SELECT change_seq
FROM es_mail_change
WHERE changed_at < :cutoff
ORDER BY change_seq
FETCH FIRST :batch_size ROWS ONLY
