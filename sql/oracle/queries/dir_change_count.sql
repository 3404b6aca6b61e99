SELECT COUNT(*), MAX(change_seq) FROM es_dir_change
