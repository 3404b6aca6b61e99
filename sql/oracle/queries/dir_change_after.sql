SELECT change_seq, operation, object_class, object_guid, before_values, after_values
FROM es_dir_change
WHERE change_seq > :after_seq AND changed_at <= :settled_before
ORDER BY change_seq
FETCH FIRST :max_rows ROWS ONLY
