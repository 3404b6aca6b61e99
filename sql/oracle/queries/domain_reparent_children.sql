UPDATE es_domain SET parent_domain_id = :parent_domain_id WHERE parent_domain_id = :domain_id
