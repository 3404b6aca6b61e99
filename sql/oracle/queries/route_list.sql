SELECT r.route_id, r.guid, f.community_name, t.community_name, v.community_name, r.route_cost, r.created_at
FROM es_route r
JOIN es_community f ON f.community_id = r.from_community_id
JOIN es_community t ON t.community_id = r.to_community_id
JOIN es_community v ON v.community_id = r.via_community_id
ORDER BY f.community_name, t.community_name, r.route_cost
