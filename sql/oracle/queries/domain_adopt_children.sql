UPDATE es_domain SET parent_domain_id = :domain_id
WHERE domain_id <> :domain_id AND qualified_name LIKE :suffix_pattern
  AND (parent_domain_id IS NULL OR parent_domain_id = :old_parent_id)
