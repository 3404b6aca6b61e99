SELECT d.domain_id
FROM es_domain d
WHERE d.qualified_name = :qualified_name
