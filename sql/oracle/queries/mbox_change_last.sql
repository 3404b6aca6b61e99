SELECT COALESCE(MAX(c.change_seq), 0)
FROM es_mail_change c
