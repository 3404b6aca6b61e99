SELECT c.community_id, c.guid, c.community_name, c.net_protocol, c.description, c.created_at
FROM es_community c WHERE c.community_name = :community_name
