DELETE FROM es_domain WHERE domain_id = :domain_id
