DELETE FROM es_mail_change
WHERE change_seq = :change_seq AND changed_at < :cutoff
