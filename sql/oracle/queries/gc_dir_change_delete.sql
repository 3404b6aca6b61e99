DELETE FROM es_dir_change
WHERE change_seq = :change_seq
  AND (change_seq <= (SELECT MIN(s.acked_seq) FROM es_dir_subscriber s)
       OR (NOT EXISTS (SELECT 1 FROM es_dir_subscriber s) AND changed_at < :cutoff))
