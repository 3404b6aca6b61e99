SELECT DISTINCT o.object_id, o.object_class, o.object_name, d.qualified_name
FROM es_dl_member m
JOIN es_dir_object o ON o.object_id = m.dl_object_id
JOIN es_domain d ON d.domain_id = o.domain_id
WHERE m.member_object_id = :member_object_id
ORDER BY d.qualified_name, o.object_name
