SELECT c.community_id, c.guid, c.community_name, c.net_protocol, c.description, c.created_at
FROM es_community c
WHERE (:community_id = 0 OR c.community_id = :community_id)
ORDER BY c.community_name
