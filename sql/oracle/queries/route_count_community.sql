SELECT COUNT(*) FROM es_route
WHERE from_community_id = :community_id OR to_community_id = :community_id OR via_community_id = :community_id
