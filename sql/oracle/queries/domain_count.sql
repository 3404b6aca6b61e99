SELECT COUNT(*) FROM es_domain
